// Per API key, per class of request (create, read, write), counted by the store's rate limiter
// (rate-limiter-flexible: on Redis every instance shares the count). Over the limit: 429 with
// Retry-After; every answer carries X-RateLimit-Limit/Remaining/Reset (Reset in epoch seconds),
// like the real service.
import type { Context, Next } from 'koa';
import type { Store } from '../../store/index.ts';
import type { RateLimitClass } from '../config.ts';
import { ApiError } from './errors.ts';

export function rateLimit(store: Store, cls: RateLimitClass, limits: Record<RateLimitClass, number>, windowMs: number) {
  const limiter = store.rateLimiter(`verifier-api:${cls}`, { points: limits[cls], durationSeconds: Math.max(1, Math.round(windowMs / 1000)) });
  return async (ctx: Context, next: Next) => {
    const state = await limiter.consume(String(ctx.state.apiKeyId));
    const headers = {
      'X-RateLimit-Limit': String(state.limit),
      'X-RateLimit-Remaining': String(state.remaining),
      'X-RateLimit-Reset': String(Math.ceil(Date.now() / 1000) + state.resetSeconds),
    };
    if (!state.allowed) {
      throw new ApiError(429, `Request was throttled. Expected available in ${state.resetSeconds} seconds.`, { ...headers, 'Retry-After': String(state.resetSeconds) });
    }
    ctx.set(headers);
    await next();
  };
}
