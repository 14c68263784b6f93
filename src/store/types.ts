// The one interface for state that must survive a restart or be shared between instances.
// Values are JSON. A TTL is in whole seconds; omit it only for durable records (accounts,
// templates, keys) — everything session-like must expire.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type SetOptions = { ttl?: number };

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

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
