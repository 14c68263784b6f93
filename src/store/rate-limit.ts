// Counting actions per key over a time window, for request rate limits (the verifier's API, the
// IdP's account lookups) and attempt throttling. The counting is rate-limiter-flexible's, a kept
// library: on Redis, RateLimiterRedis (one atomic Lua increment per action, so every instance on
// that Redis shares the count); on the embedded store, RateLimiterMemory (the embedded store is
// single-node: `npm start` runs the IdP and the verifier in one process, which shares it; counts
// start again after a restart there). Each store picks its variant (Store.rateLimiter).
//
// The algorithm is the library's "flexible fixed window": a key's window opens at its first action
// and lasts `durationSeconds`, so windows are not aligned on the clock for every client at once.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Cluster, Redis } from 'ioredis';

export type Limit = { points: number; durationSeconds: number };

export type LimitState = {
  /** False when this action went over the limit (it is counted all the same). */
  allowed: boolean;
  limit: number;
  /** Actions left in the window after this one (0 when over). */
  remaining: number;
  /** Seconds until the window resets (at least 1 while it is open). */
  resetSeconds: number;
};

export interface RateLimiter {
  readonly limit: Limit;
  /** Counts `points` actions for `key`; never throws for going over the limit, only on store failure. */
  consume(key: string, points?: number): Promise<LimitState>;
  /** The state without counting anything (undefined: no window open). */
  peek(key: string): Promise<LimitState | undefined>;
  /** Closes the key's window (a success resets an attempt counter). */
  reset(key: string): Promise<void>;
}

function stateOf(limit: Limit, res: RateLimiterRes, allowed: boolean): LimitState {
  return {
    allowed,
    limit: limit.points,
    remaining: Math.max(0, limit.points - res.consumedPoints),
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  };
}

function wrap(limiter: RateLimiterAbstract, limit: Limit): RateLimiter {
  return {
    limit,
    async consume(key, points = 1) {
      try {
        return stateOf(limit, await limiter.consume(key, points), true);
      } catch (err) {
        // The library rejects with its result object when the limit is passed, with an Error when the store fails.
        if (err instanceof RateLimiterRes) return stateOf(limit, err, false);
        throw err;
      }
    },
    async peek(key) {
      const res = await limiter.get(key);
      return res ? stateOf(limit, res, res.consumedPoints <= limit.points) : undefined;
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}

const checked = (name: string, limit: Limit) => {
  if (!/^[a-z0-9:-]+$/.test(name)) throw new Error(`rate limiter name "${name}": lowercase letters, digits, ':' and '-' only`);
  if (!(Number.isInteger(limit.points) && limit.points >= 1 && Number.isInteger(limit.durationSeconds) && limit.durationSeconds >= 1)) {
    throw new Error(`rate limiter ${name}: points and durationSeconds must be whole numbers ≥ 1`);
  }
};

export function redisRateLimiter(redis: Redis | Cluster, keyPrefix: string, name: string, limit: Limit): RateLimiter {
  checked(name, limit);
  return wrap(new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}ratelimit:${name}`, points: limit.points, duration: limit.durationSeconds }), limit);
}

export function memoryRateLimiter(name: string, limit: Limit): RateLimiter {
  checked(name, limit);
  return wrap(new RateLimiterMemory({ keyPrefix: name, points: limit.points, duration: limit.durationSeconds }), limit);
}
