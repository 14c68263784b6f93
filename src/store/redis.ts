// Redis store (ioredis 6): the production and multi-instance choice.
//
// Each value is a hash: field "v" holds the JSON value and "p:<name>" fields hold later patches.
// Patching with HSET keeps the key's TTL and never rewrites the whole value, so no JSON has to
// be decoded inside Lua (cjson would turn [] into {} and round floats).
import { Cluster, Redis } from 'ioredis';
import type { Json, JsonObject, Limit, RateLimiter, SetOptions, Store, Write } from './types.ts';
import { describeTopology } from './redis-config.ts';
import type { RedisTopology } from './redis-config.ts';
import { redisRateLimiter } from './rate-limit.ts';
import { StoreUnavailableError, checkOneSlot, isStoreUnavailable } from './types.ts';

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

const DEL = `return redis.call('DEL', KEYS[1])`;
const SREM = `return redis.call('SREM', KEYS[1], ARGV[1])`;

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

// One script writes a group of records and index members (Store.writeAll): Lua runs whole or not
// at all, and the append-only file and replicas get it as one unit. ARGV holds, per key, the kind
// ('s' set, 'i' index add), the value or member, and the TTL (0: none).
const WRITE_ALL = `
for i = 1, #KEYS do
  local kind, value, ttl = ARGV[i * 3 - 2], ARGV[i * 3 - 1], tonumber(ARGV[i * 3])
  if kind == 's' then
    redis.call('DEL', KEYS[i])
    redis.call('HSET', KEYS[i], 'v', value)
    if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
  else
    redis.call('SADD', KEYS[i], value)
    if ttl > 0 and redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
  end
end
return 1`;

export type RedisStoreOptions = {
  /** The topology (config.redis); `url` is shorthand for a single server. */
  topology?: RedisTopology | undefined;
  url?: string | undefined;
  keyPrefix: string;
  connectTimeoutMs?: number;
  /** A command that gets no answer within this fails (StoreUnavailableError → 503) instead of hanging. */
  commandTimeoutMs?: number;
};

type Client = Redis | Cluster;

// While Redis is away a request must fail at once (503), not wait in a queue: no offline queue,
// a command timeout, and reconnection with backoff in the background. The first connection is
// the exception: until it succeeds a failure is fatal (start-up says so and exits).
function reconnectDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times, 5), 2000);
}

function createClient(topology: RedisTopology, timeout: number, commandTimeout: number, connected: () => boolean): Client {
  const common = {
    lazyConnect: true,
    connectTimeout: timeout,
    commandTimeout,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  } as const;
  const retryStrategy = (times: number) => (connected() ? reconnectDelay(times) : null);
  // After a failover the old master answers READONLY: reconnect (Sentinel names the new one) and resend.
  const reconnectOnError = (err: Error) => (/^READONLY\b/.test(err.message) ? 2 : false);
  if (topology.kind === 'single') return new Redis(topology.url, { ...common, retryStrategy, reconnectOnError });
  const tls = topology.tls ? {} : undefined;
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...common,
      retryStrategy,
      reconnectOnError,
      sentinels: topology.sentinels,
      name: topology.name,
      username: topology.auth.username,
      password: topology.auth.password,
      sentinelUsername: topology.sentinelAuth.username,
      sentinelPassword: topology.sentinelAuth.password,
      // Sentinel: `tls` is for the data nodes, enableTLSForSentinelMode + sentinelTLS for the sentinels (ioredis README).
      ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      sentinelRetryStrategy: (times: number) => (connected() ? reconnectDelay(times) : null),
      failoverDetector: true,
    });
  }
  return new Cluster(topology.nodes, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    slotsRefreshTimeout: timeout,
    clusterRetryStrategy: (times: number) => (connected() ? reconnectDelay(times) : null),
    redisOptions: {
      connectTimeout: timeout,
      commandTimeout,
      maxRetriesPerRequest: 1,
      username: topology.auth.username,
      password: topology.auth.password,
      ...(tls ? { tls } : {}),
    },
  });
}

export class RedisStore implements Store {
  readonly description: string;
  readonly shared = true;
  readonly #redis: Client;
  readonly #prefix: string;
  readonly #waitReplicas: number;
  readonly #waitMs: number;

  private constructor(redis: Client, prefix: string, description: string, waitReplicas: number, waitMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.description = description;
    this.#waitReplicas = waitReplicas;
    this.#waitMs = waitMs;
  }

  /**
   * Connects or throws within connectTimeoutMs: StoreUnavailableError when Redis does not answer,
   * ConfigError-worthy StoreUnavailableError when it answers as another topology. No silent fallback, no hang.
   */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const topology: RedisTopology | undefined = options.topology ?? (options.url ? { kind: 'single', url: options.url, waitReplicas: 0 } : undefined);
    if (!topology) throw new Error('RedisStore.connect: no topology');
    const timeout = options.connectTimeoutMs ?? 3000;
    let connected = false;
    const commandTimeout = options.commandTimeoutMs ?? 2000;
    const redis = createClient(topology, timeout, commandTimeout, () => connected);
    redis.on('error', () => {
      // Surfaced through rejected commands and /readyz; an unhandled 'error' event would crash.
    });
    const what = describeTopology(topology);
    const variable = topology.kind === 'single' ? 'REDIS_URL' : topology.kind === 'sentinel' ? 'REDIS_SENTINELS' : 'REDIS_CLUSTER_NODES';
    try {
      await Promise.race([
        redis.connect(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout).unref()),
      ]);
      await redis.ping();
      if (topology.kind !== 'cluster') {
        // A Cluster node behind REDIS_URL would answer MOVED for most keys: say so at start-up.
        const info = await redis.info('cluster');
        if (/cluster_enabled:1/.test(info)) {
          redis.disconnect();
          throw new StoreUnavailableError(`${variable}: ${what} is a Redis Cluster node: list the cluster's nodes in REDIS_CLUSTER_NODES instead`);
        }
      }
      connected = true;
    } catch (err) {
      redis.disconnect();
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`${variable}: cannot reach Redis at ${what}: ${(err as Error).message}`, { cause: err });
    }
    const waits = topology.waitReplicas > 0 ? `, writes confirmed by ${topology.waitReplicas} replica(s)` : '';
    // WAIT may take up to its timeout: keep it under the command timeout so its own answer arrives.
    return new RedisStore(redis, options.keyPrefix, `redis ${what} (prefix "${options.keyPrefix}"${waits})`, topology.waitReplicas, Math.max(100, commandTimeout - 500));
  }

  /** Connection trouble becomes StoreUnavailableError (a 503 upstream); other errors pass as they are. */
  async #do<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (isStoreUnavailable(err) && !(err instanceof StoreUnavailableError)) {
        throw new StoreUnavailableError(`Redis unavailable: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  #k(key: string): string {
    return this.#prefix + key;
  }

  #eval(script: string, key: string, ...args: string[]): Promise<unknown> {
    return this.#do(() => this.#redis.eval(script, 1, this.#k(key), ...args));
  }

  /**
   * A write; with waitReplicas, followed by WAIT on the same connection (one pipeline), and refused
   * (StoreUnavailableError) unless enough replicas confirm it: after a failover a write only the
   * old master had is gone, so it must never have been reported as done.
   */
  async #write(keys: string[], script: string, ...args: string[]): Promise<unknown> {
    const prefixed = keys.map((k) => this.#k(k));
    if (this.#waitReplicas === 0) return this.#do(() => this.#redis.eval(script, prefixed.length, ...prefixed, ...args));
    const results = await this.#do(async () => (await this.#redis.pipeline().eval(script, prefixed.length, ...prefixed, ...args).wait(this.#waitReplicas, this.#waitMs).exec()) ?? []);
    const [[writeErr, value] = [null, undefined], [waitErr, replicas] = [null, 0]] = results;
    const err = writeErr ?? waitErr;
    if (err) throw isStoreUnavailable(err) ? new StoreUnavailableError(`Redis unavailable: ${err.message}`, { cause: err }) : err;
    if (Number(replicas) < this.#waitReplicas) {
      throw new StoreUnavailableError(`Redis write not confirmed by ${this.#waitReplicas} replica(s) within ${this.#waitMs} ms (${Number(replicas)} did)`);
    }
    return value;
  }

  async get<T = Json>(key: string): Promise<T | undefined> {
    return decodeHash((await this.#eval(GET, key)) as string[]) as T | undefined;
  }

  async set(key: string, value: Json, options?: SetOptions): Promise<void> {
    await this.#write([key], SET, JSON.stringify(value), ttlArg(options));
  }

  async setIfAbsent(key: string, value: Json, options?: SetOptions): Promise<boolean> {
    return (await this.#write([key], SET_IF_ABSENT, JSON.stringify(value), ttlArg(options))) === 1;
  }

  async take<T = Json>(key: string): Promise<T | undefined> {
    return decodeHash((await this.#write([key], TAKE)) as string[]) as T | undefined;
  }

  async patch(key: string, fields: JsonObject): Promise<boolean> {
    const args = Object.entries(fields).flatMap(([name, value]) => [`p:${name}`, JSON.stringify(value)]);
    if (args.length === 0) return (await this.#do(() => this.#redis.exists(this.#k(key)))) === 1;
    return (await this.#write([key], PATCH, ...args)) === 1;
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    // One DEL per key: keys of different hash slots cannot share a command on Redis Cluster.
    const counts = await Promise.all(keys.map((key) => this.#write([key], DEL)));
    return counts.reduce<number>((sum, n) => sum + Number(n), 0);
  }

  async ttl(key: string): Promise<number | undefined> {
    const t = await this.#do(() => this.#redis.ttl(this.#k(key)));
    return t === -2 ? undefined : t;
  }

  async incr(key: string, options?: SetOptions): Promise<number> {
    return Number(await this.#write([key], INCR, ttlArg(options)));
  }

  async writeAll(writes: Write[]): Promise<void> {
    if (writes.length === 0) return;
    const keys = writes.map((w) => ('set' in w ? w.set : w.indexAdd));
    checkOneSlot(keys);
    const args = writes.flatMap((w) => {
      const ttl = ttlArg(w.ttl === undefined ? undefined : { ttl: w.ttl });
      return 'set' in w ? ['s', JSON.stringify(w.value), ttl] : ['i', w.member, ttl];
    });
    await this.#write(keys, WRITE_ALL, ...args);
  }

  async indexAdd(key: string, member: string, options?: SetOptions): Promise<void> {
    await this.#write([key], INDEX_ADD, member, ttlArg(options));
  }

  async indexMembers(key: string): Promise<string[]> {
    return this.#do(() => this.#redis.smembers(this.#k(key)));
  }

  async indexRemove(key: string, member: string): Promise<void> {
    await this.#write([key], SREM, member);
  }

  rateLimiter(name: string, limit: Limit): RateLimiter {
    return redisRateLimiter(this.#redis, this.#prefix, name, limit);
  }

  async ping(): Promise<void> {
    // Cluster: every master must answer, since any key may live on any of them.
    if (this.#redis instanceof Cluster) {
      const masters = this.#redis.nodes('master');
      if (masters.length === 0) throw new StoreUnavailableError('Redis unavailable: no cluster master known');
      await this.#do(() => Promise.all(masters.map((n) => n.ping())));
      return;
    }
    await this.#do(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}

export { redactUrl } from './redis-config.ts';
