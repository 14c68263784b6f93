// Step: verification sessions opened per client IP (signin.verificationsPerIpPerHour), counted by
// the store's rate limiter: shared by every instance on one Redis.
import type { Context } from 'koa';
import { HttpError } from '../../../http/body.ts';
import type { Verification } from '../verification.ts';

export async function countSessionStart(ctx: Context, verification: Verification): Promise<void> {
  const state = await verification.perIp.consume(ctx.ip);
  if (!state.allowed) {
    ctx.set('Retry-After', String(state.resetSeconds));
    throw new HttpError(429, 'Too many attempts from your network. Try again later.');
  }
}
