// The one interface for state that must survive a restart or be shared between instances.
// Values are JSON. A TTL is in whole seconds; omit it only for durable records (accounts,
// templates, keys) — everything session-like must expire.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type SetOptions = { ttl?: number };

/** One write of an atomic group (Store.writeAll): a record replaced, or a member added to an index. */
export type Write = { set: string; value: Json; ttl?: number | undefined } | { indexAdd: string; member: string; ttl?: number | undefined };

/**
 * The hash tag of a key (the text inside its first non-empty {…}), which decides its Redis Cluster
 * slot; undefined when it has none. Keys written together must share one.
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** Throws unless every key of an atomic group lives in one slot on every topology (same hash tag). */
export function checkOneSlot(keys: string[]): void {
  if (keys.length < 2) return;
  const tags = new Set(keys.map(hashTag));
  if (tags.size > 1 || tags.has(undefined)) {
    throw new Error(`writeAll: keys must share one {hash tag} so that Redis Cluster keeps them in one slot: ${keys.join(', ')}`);
  }
}

import type { Limit, RateLimiter } from './rate-limit.ts';
export type { Limit, LimitState, RateLimiter } from './rate-limit.ts';

export interface Store {
  /** What this store is, for the start-up log ("redis redis://host:6379", "embedded sqlite …"). */
  readonly description: string;
  /** True when several processes on several hosts may share it. */
  readonly shared: boolean;

  get<T = Json>(key: string): Promise<T | undefined>;
  set(key: string, value: Json, options?: SetOptions): Promise<void>;
  /** Set only when the key does not exist; true when this call created it. */
  setIfAbsent(key: string, value: Json, options?: SetOptions): Promise<boolean>;
  /** Atomic get-and-delete: of any number of concurrent callers, exactly one gets the value. */
  take<T = Json>(key: string): Promise<T | undefined>;
  /**
   * Merge top-level fields into an existing object, keeping its TTL. False (and nothing written)
   * when the key is absent or expired, so a late write cannot resurrect a dead record.
   */
  patch(key: string, fields: JsonObject): Promise<boolean>;
  delete(...keys: string[]): Promise<number>;
  /** Seconds left, -1 for no expiry, undefined when absent. */
  ttl(key: string): Promise<number | undefined>;
  /** Increment a counter; the TTL applies when this call creates it (fixed windows, attempt counts). */
  incr(key: string, options?: SetOptions): Promise<number>;

  /**
   * Several writes, all or none, even if the process dies halfway (one Lua script on Redis, one
   * transaction embedded): a status and the webhook that announces it. The keys must share one
   * {hash tag} (checkOneSlot), on every topology, so what works here works on Redis Cluster.
   */
  writeAll(writes: Write[]): Promise<void>;

  /** Sets of strings, for indexes (a grant's tokens, an account's sessions). */
  indexAdd(key: string, member: string, options?: SetOptions): Promise<void>;
  indexMembers(key: string): Promise<string[]>;
  indexRemove(key: string, member: string): Promise<void>;

  /**
   * A counter of actions per key over a window, shared by every process on this store where the
   * store is shared (rate-limit.ts). Create one per limit, once, at start-up.
   */
  rateLimiter(name: string, limit: Limit): RateLimiter;

  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store cannot be reached (or answered too late): the request gets a 503, not a 500. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

// What ioredis says when Redis is down, restarting, failing over or out of reach; anything else
// (a wrong type, a script error) is a bug and stays a 500.
const UNAVAILABLE = [
  /Stream isn't writeable/,
  /Connection is closed/,
  /Command aborted due to connection close/,
  /Command timed out/,
  /max retries per request/i,
  /None of (the )?startup nodes is available/i,
  /Cluster isn't ready/,
  /Failed to refresh slots cache/,
  /All sentinels are unreachable/,
  /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY)\b/,
  /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH)\b/,
];

/** True for StoreUnavailableError and for a Redis client's connection errors (a rate limiter's, say). */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError) return true;
    if (e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError') return true;
    if (UNAVAILABLE.some((re) => re.test(e.message))) return true;
  }
  return false;
}
