// Per API key, per class of request (create, read, write), fixed window counted in the store, so
// every instance shares the count. Over the limit: 429 with Retry-After; every answer carries
// X-RateLimit-Limit/Remaining/Reset (Reset in epoch seconds), like the real service.
import type { Context, Next } from 'koa';
import type { Store } from '../../store/index.ts';
import type { RateLimitClass } from '../config.ts';
import { ttlSeconds } from '../durations.ts';
import { K } from '../keys.ts';
import { ApiError } from './errors.ts';

export function rateLimit(store: Store, cls: RateLimitClass, limits: Record<RateLimitClass, number>, windowMs: number) {
  const limit = limits[cls];
  return async (ctx: Context, next: Next) => {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const resetMs = (window + 1) * windowMs;
    const count = await store.incr(K.rateLimit(String(ctx.state.apiKeyId), cls, window), { ttl: ttlSeconds(windowMs) + 1 });
    const headers = {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(Math.max(0, limit - count)),
      'X-RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
    };
    if (count > limit) {
      const wait = Math.max(1, Math.ceil((resetMs - now) / 1000));
      throw new ApiError(429, `Request was throttled. Expected available in ${wait} seconds.`, { ...headers, 'Retry-After': String(wait) });
    }
    ctx.set(headers);
    await next();
  };
}
