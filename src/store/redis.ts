// Redis store (ioredis 6): the production and multi-instance choice.
//
// Each value is a hash: field "v" holds the JSON value and "p:<name>" fields hold later patches.
// Patching with HSET keeps the key's TTL and never rewrites the whole value, so no JSON has to
// be decoded inside Lua (cjson would turn [] into {} and round floats).
import { Redis } from 'ioredis';
import type { Json, JsonObject, Limit, RateLimiter, SetOptions, Store } from './types.ts';
import { redisRateLimiter } from './rate-limit.ts';
import { StoreUnavailableError } from './types.ts';

// Counters are plain strings (INCR); everything else is a hash. get() reads either.
const GET = `
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'hash' then return redis.call('HGETALL', KEYS[1]) end
if t == 'string' then return {'v', redis.call('GET', KEYS[1])} end
return {}`;

const SET_IF_ABSENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

const SET = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

const TAKE = `
local v = redis.call('HGETALL', KEYS[1])
if #v > 0 then redis.call('DEL', KEYS[1]) end
return v`;

// EXISTS first: HSET on an expired (hence absent) key would create a record with no TTL.
const PATCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

const INCR = `
local n = redis.call('INCR', KEYS[1])
if n == 1 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

// An index lives as long as its longest-lived member.
const INDEX_ADD = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 and redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

function decodeHash(flat: string[]): Json | undefined {
  if (flat.length === 0) return undefined;
  let base: Json | undefined;
  const patches: JsonObject = {};
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i] as string;
    const value = JSON.parse(flat[i + 1] as string) as Json;
    if (field === 'v') base = value;
    else if (field.startsWith('p:')) patches[field.slice(2)] = value;
  }
  if (base !== null && typeof base === 'object' && !Array.isArray(base) && Object.keys(patches).length) {
    return { ...base, ...patches };
  }
  return base;
}

function ttlArg(options?: SetOptions): string {
  const ttl = options?.ttl;
  if (ttl === undefined) return '0';
  if (!Number.isFinite(ttl) || ttl <= 0) throw new RangeError(`ttl must be a positive number of seconds, got ${ttl}`);
  return String(Math.ceil(ttl));
}

export type RedisStoreOptions = { url: string; keyPrefix: string; connectTimeoutMs?: number };

export class RedisStore implements Store {
  readonly description: string;
  readonly shared = true;
  readonly #redis: Redis;
  readonly #prefix: string;

  private constructor(redis: Redis, prefix: string, description: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.description = description;
  }

  /** Connects or throws StoreUnavailableError within connectTimeoutMs: no silent fallback, no hang. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const timeout = options.connectTimeoutMs ?? 3000;
    let connected = false;
    const redis = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: timeout,
      maxRetriesPerRequest: 2,
      // Until the first connection succeeds a failure is fatal; after it, reconnect with backoff.
      retryStrategy: (times) => (connected ? Math.min(times * 200, 2000) : null),
    });
    redis.on('error', () => {
      // Surfaced through rejected commands and /readyz; an unhandled 'error' event would crash.
    });
    const safeUrl = redactUrl(options.url);
    try {
      await Promise.race([
        redis.connect(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout).unref()),
      ]);
      await redis.ping();
      connected = true;
    } catch (err) {
      redis.disconnect();
      throw new StoreUnavailableError(`REDIS_URL: cannot reach Redis at ${safeUrl}: ${(err as Error).message}`, { cause: err });
    }
    return new RedisStore(redis, options.keyPrefix, `redis ${safeUrl} (prefix "${options.keyPrefix}")`);
  }

  #k(key: string): string {
    return this.#prefix + key;
  }

  async get<T = Json>(key: string): Promise<T | undefined> {
    const flat = (await this.#redis.eval(GET, 1, this.#k(key))) as string[];
    return decodeHash(flat) as T | undefined;
  }

  async set(key: string, value: Json, options?: SetOptions): Promise<void> {
    await this.#redis.eval(SET, 1, this.#k(key), JSON.stringify(value), ttlArg(options));
  }

  async setIfAbsent(key: string, value: Json, options?: SetOptions): Promise<boolean> {
    const created = await this.#redis.eval(SET_IF_ABSENT, 1, this.#k(key), JSON.stringify(value), ttlArg(options));
    return created === 1;
  }

  async take<T = Json>(key: string): Promise<T | undefined> {
    const flat = (await this.#redis.eval(TAKE, 1, this.#k(key))) as string[];
    return decodeHash(flat) as T | undefined;
  }

  async patch(key: string, fields: JsonObject): Promise<boolean> {
    const args = Object.entries(fields).flatMap(([name, value]) => [`p:${name}`, JSON.stringify(value)]);
    if (args.length === 0) return (await this.#redis.exists(this.#k(key))) === 1;
    return (await this.#redis.eval(PATCH, 1, this.#k(key), ...args)) === 1;
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: keys of different hash slots cannot share a command on Redis Cluster.
    const pipeline = this.#redis.pipeline();
    for (const key of keys) pipeline.del(this.#k(key));
    const results = (await pipeline.exec()) ?? [];
    let removed = 0;
    for (const [err, n] of results) {
      if (err) throw err;
      removed += Number(n);
    }
    return removed;
  }

  async ttl(key: string): Promise<number | undefined> {
    const t = await this.#redis.ttl(this.#k(key));
    return t === -2 ? undefined : t;
  }

  async incr(key: string, options?: SetOptions): Promise<number> {
    return Number(await this.#redis.eval(INCR, 1, this.#k(key), ttlArg(options)));
  }

  async indexAdd(key: string, member: string, options?: SetOptions): Promise<void> {
    await this.#redis.eval(INDEX_ADD, 1, this.#k(key), member, ttlArg(options));
  }

  async indexMembers(key: string): Promise<string[]> {
    return this.#redis.smembers(this.#k(key));
  }

  async indexRemove(key: string, member: string): Promise<void> {
    await this.#redis.srem(this.#k(key), member);
  }

  rateLimiter(name: string, limit: Limit): RateLimiter {
    return redisRateLimiter(this.#redis, this.#prefix, name, limit);
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
