import type { Config } from '../config.ts';
import { RedisStore } from './redis.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export type { Json, JsonObject, Limit, LimitState, RateLimiter, SetOptions, Store } from './types.ts';
export { StoreUnavailableError } from './types.ts';

/** Redis when REDIS_URL is set (and reachable, or this throws), else the embedded store. */
export async function openStore(config: Pick<Config, 'redisUrl' | 'redisKeyPrefix' | 'dataDir'>): Promise<Store> {
  if (config.redisUrl) return RedisStore.connect({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix });
  return new SqliteStore(config.dataDir);
}
