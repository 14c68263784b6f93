import type { Config } from '../config.ts';
import { RedisStore } from './redis.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export type { Json, JsonObject, Limit, LimitState, RateLimiter, SetOptions, Store, Write } from './types.ts';
export { StoreUnavailableError, isStoreUnavailable } from './types.ts';

/** Redis when a topology is configured (and reachable, or this throws: never a silent fallback), else the embedded store. */
export async function openStore(config: Pick<Config, 'redis' | 'redisKeyPrefix' | 'dataDir'>): Promise<Store> {
  if (config.redis) return RedisStore.connect({ topology: config.redis, keyPrefix: config.redisKeyPrefix });
  return new SqliteStore(config.dataDir);
}
