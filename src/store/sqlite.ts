// Embedded store on node:sqlite: the default when REDIS_URL is unset. One file in DATA_DIR,
// in WAL mode, so the running server and a CLI process (`selfie-idp users …`, `keys rotate`)
// can share it safely. Single node only: it is not a way to run several hosts.
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { ensurePrivateDir, ensurePrivateFile } from './data-dir.ts';
import type { Json, JsonObject, Limit, RateLimiter, SetOptions, Store, Write } from './types.ts';
import { checkOneSlot } from './types.ts';
import { memoryRateLimiter } from './rate-limit.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS idx (
  key TEXT NOT NULL,
  member TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (key, member)
);
CREATE INDEX IF NOT EXISTS idx_expiry ON idx (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS idx_ttl (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
`;

const LIVE = '(expires_at IS NULL OR expires_at > ?)';
// An index lives as long as its longest-lived member (as on Redis, where the set has one TTL): a
// member with a TTL is live while its own expiry or its index's (idx_ttl, the longest TTL given to
// any of its members) has not passed. Rows written before idx_ttl existed had their expiry raised
// to the longest on every add; they read the same.
const INDEX_TTL = 'SELECT expires_at FROM idx_ttl WHERE key = ?';
const MEMBER_LIVE = '(idx.expires_at IS NULL OR idx.expires_at > ? OR (SELECT idx_ttl.expires_at FROM idx_ttl WHERE idx_ttl.key = ?) > ?)';
const UPSERT = 'INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at';
const UPSERT_IF_EXPIRED = `${UPSERT} WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?`;

function expiry(options?: SetOptions): number | null {
  const ttl = options?.ttl;
  if (ttl === undefined) return null;
  if (!Number.isFinite(ttl) || ttl <= 0) throw new RangeError(`ttl must be a positive number of seconds, got ${ttl}`);
  return Date.now() + Math.ceil(ttl) * 1000;
}

export class SqliteStore implements Store {
  readonly description: string;
  readonly shared = false;
  readonly #db: DatabaseSync;
  readonly #sweeper: NodeJS.Timeout;
  /** Statements prepared once per connection (a sign-in makes ~180 store calls; preparing each was a large share of their cost). */
  readonly #statements = new Map<string, StatementSync>();

  constructor(dataDir: string) {
    // 0700 / 0600 before SQLite opens it: it holds sessions and capture tokens, and SQLite gives
    // the -wal and -shm files the database file's mode.
    ensurePrivateDir(dataDir);
    const file = path.join(dataDir, 'selfie-idp.sqlite');
    ensurePrivateFile(file);
    this.#db = new DatabaseSync(file);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
    this.#db.exec(SCHEMA);
    this.description = `embedded sqlite ${file} (single node)`;
    this.#sweeper = setInterval(() => this.sweep(), 60_000);
    this.#sweeper.unref();
  }

  /** Delete expired rows; reads already ignore them, this only reclaims space. */
  sweep(): void {
    const now = Date.now();
    this.#sql('DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
    this.#sql('DELETE FROM idx WHERE expires_at IS NOT NULL AND expires_at <= ? AND NOT EXISTS (SELECT 1 FROM idx_ttl WHERE idx_ttl.key = idx.key AND idx_ttl.expires_at > ?)').run(now, now);
    this.#sql('DELETE FROM idx_ttl WHERE expires_at <= ?').run(now);
  }

  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  // BEGIN IMMEDIATE takes the write lock up front, so a read-modify-write cannot interleave with
  // another process's.
  #transaction<T>(fn: () => T): T {
    this.#sql('BEGIN IMMEDIATE').run();
    try {
      const result = fn();
      this.#sql('COMMIT').run();
      return result;
    } catch (err) {
      this.#sql('ROLLBACK').run();
      throw err;
    }
  }

  #read(key: string): { value: string; expires_at: number | null } | undefined {
    return this.#sql(`SELECT value, expires_at FROM kv WHERE key = ? AND ${LIVE}`).get(key, Date.now()) as { value: string; expires_at: number | null } | undefined;
  }

  async get<T = Json>(key: string): Promise<T | undefined> {
    const row = this.#read(key);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async set(key: string, value: Json, options?: SetOptions): Promise<void> {
    this.#sql(UPSERT).run(key, JSON.stringify(value), expiry(options));
  }

  async setIfAbsent(key: string, value: Json, options?: SetOptions): Promise<boolean> {
    const now = Date.now();
    // Replaces only a row that has already expired; a live one wins.
    const result = this.#sql(UPSERT_IF_EXPIRED).run(key, JSON.stringify(value), expiry(options), now);
    return Number(result.changes) === 1;
  }

  async take<T = Json>(key: string): Promise<T | undefined> {
    const row = this.#sql(`DELETE FROM kv WHERE key = ? AND ${LIVE} RETURNING value`).get(key, Date.now()) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async patch(key: string, fields: JsonObject): Promise<boolean> {
    return this.#transaction(() => {
      const row = this.#read(key);
      if (!row) return false;
      const current = JSON.parse(row.value) as Json;
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return false;
      this.#sql('UPDATE kv SET value = ? WHERE key = ?').run(JSON.stringify({ ...current, ...fields }), key);
      return true;
    });
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const now = Date.now();
    return this.#transaction(() => {
      let removed = 0;
      const del = this.#sql(`DELETE FROM kv WHERE key = ? AND ${LIVE}`);
      // An expired row not yet swept goes too (erasure: nothing about the account may stay in the file); it does not count, as on Redis.
      const delExpired = this.#sql('DELETE FROM kv WHERE key = ?');
      const delIdx = this.#sql('DELETE FROM idx WHERE key = ?');
      const delIdxTtl = this.#sql('DELETE FROM idx_ttl WHERE key = ?');
      for (const key of keys) {
        removed += Number(del.run(key, now).changes);
        delExpired.run(key);
        // Same semantics as Redis DEL on a set key: an index is a key too.
        if (Number(delIdx.run(key).changes) > 0) removed += 1;
        delIdxTtl.run(key);
      }
      return removed;
    });
  }

  async ttl(key: string): Promise<number | undefined> {
    const row = this.#read(key);
    if (!row) return undefined;
    return row.expires_at === null ? -1 : Math.max(0, Math.ceil((row.expires_at - Date.now()) / 1000));
  }

  async incr(key: string, options?: SetOptions): Promise<number> {
    return this.#transaction(() => {
      const row = this.#read(key);
      const next = (row ? Number(JSON.parse(row.value)) : 0) + 1;
      if (row) this.#sql('UPDATE kv SET value = ? WHERE key = ?').run(String(next), key);
      else {
        this.#sql(UPSERT).run(key, String(next), expiry(options));
      }
      return next;
    });
  }

  async indexAdd(key: string, member: string, options?: SetOptions): Promise<void> {
    this.#transaction(() => this.#indexAdd(key, member, options));
  }

  #indexAdd(key: string, member: string, options?: SetOptions): void {
    const until = expiry(options);
    const now = Date.now();
    const shared = (this.#sql(INDEX_TTL).get(key) as { expires_at: number } | undefined)?.expires_at;
    let longest: number | null = null;
    if (shared !== undefined && shared > now) longest = shared;
    else {
      // The index has lapsed (or predates idx_ttl): its expired members go, as the Redis set would.
      if (shared !== undefined) this.#sql('DELETE FROM idx_ttl WHERE key = ?').run(key);
      this.#sql('DELETE FROM idx WHERE key = ? AND expires_at IS NOT NULL AND expires_at <= ?').run(key, now);
      if (until !== null) longest = (this.#sql('SELECT MAX(expires_at) AS longest FROM idx WHERE key = ? AND expires_at IS NOT NULL').get(key) as { longest: number | null }).longest;
    }
    this.#sql('INSERT OR IGNORE INTO idx (key, member, expires_at) VALUES (?, ?, ?)').run(key, member, until);
    // The whole index lives as long as its longest-lived member, as in the Redis store: a member
    // added later with a shorter TTL lives as long as the rest too (else an erasure index would
    // lose a short-lived record, e.g. a used authorization code, while its row still waits for the
    // sweep). Kept once per index (idx_ttl), not on every member: raising each member's row made an
    // add cost as much as the index is long.
    if (until !== null && (longest === null || until > longest || shared === undefined || shared <= now)) {
      this.#sql('INSERT INTO idx_ttl (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at').run(key, Math.max(longest ?? until, until));
    }
  }

  async writeAll(writes: Write[]): Promise<void> {
    checkOneSlot(writes.map((w) => ('set' in w ? w.set : w.indexAdd)));
    const opts = (w: Write) => (w.ttl === undefined ? undefined : { ttl: w.ttl });
    // Expiry is checked up front so a bad TTL throws before anything is written.
    for (const w of writes) expiry(opts(w));
    this.#transaction(() => {
      for (const w of writes) {
        if ('set' in w) {
          this.#sql(UPSERT).run(w.set, JSON.stringify(w.value), expiry(opts(w)));
        } else this.#indexAdd(w.indexAdd, w.member, opts(w));
      }
    });
  }

  async indexMembers(key: string): Promise<string[]> {
    const now = Date.now();
    const rows = this.#sql(`SELECT member FROM idx WHERE key = ? AND ${MEMBER_LIVE} ORDER BY member`).all(key, now, key, now) as { member: string }[];
    return rows.map((r) => r.member);
  }

  async indexRemove(key: string, member: string): Promise<void> {
    this.#sql('DELETE FROM idx WHERE key = ? AND member = ?').run(key, member);
    // An emptied index is gone, its TTL with it (a Redis set without members no longer exists).
    // One statement: a member another process adds meanwhile keeps it.
    this.#sql('DELETE FROM idx_ttl WHERE key = ? AND NOT EXISTS (SELECT 1 FROM idx WHERE idx.key = ?)').run(key, key);
  }

  /** Single-node: counts in this process's memory (rate-limit.ts says why that is enough here). */
  rateLimiter(name: string, limit: Limit): RateLimiter {
    return memoryRateLimiter(name, limit);
  }

  async ping(): Promise<void> {
    this.#sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}
