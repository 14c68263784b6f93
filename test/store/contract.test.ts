// One contract, two stores: the embedded sqlite store and the real Redis server.
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { storeContract } from './contract.ts';
import { TEST_REDIS_URL, sleep, tempDir, uniquePrefix } from '../helpers/env.ts';

const tmp = tempDir('store');

const implementations: [string, () => Promise<Store>][] = [
  ['sqlite', async () => new SqliteStore(tmp.dir)],
  ['redis', async () => RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: uniquePrefix('store') })],
];

afterAll(() => tmp.remove());

for (const [name, open] of implementations) storeContract(name, open);

describe('embedded store', () => {
  it('keeps data across a restart and between two processes on the same DATA_DIR', async () => {
    const dir = tempDir('store-restart');
    const first = new SqliteStore(dir.dir);
    const second = new SqliteStore(dir.dir); // a CLI process beside the server
    await first.set('account:1', { email: 'a@example.com' });
    expect(await second.get('account:1')).toEqual({ email: 'a@example.com' });
    const [x, y] = await Promise.all([first.take('account:1'), second.take('account:1')]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
    await first.set('durable', { kept: true });
    await first.close();
    await second.close();
    const reopened = new SqliteStore(dir.dir);
    expect(await reopened.get('durable')).toEqual({ kept: true });
    expect(reopened.description).toContain('single node');
    await reopened.close();
    dir.remove();
  });
});

describe('embedded store: index expiry (kept once per index, idx_ttl)', () => {
  it('the sweep keeps the members of an index that still lives, and drops them once it has lapsed', async () => {
    const dir = tempDir('store-sweep');
    const store = new SqliteStore(dir.dir);
    try {
      await store.indexAdd('ix', 'short', { ttl: 1 });
      await store.indexAdd('ix', 'long', { ttl: 2 });
      await store.indexAdd('other', 'x', { ttl: 1 });
      await sleep(1200);
      store.sweep();
      expect(await store.indexMembers('ix')).toEqual(['long', 'short']);
      expect(await store.indexMembers('other')).toEqual([]);
      await sleep(1000);
      store.sweep();
      expect(await store.indexMembers('ix')).toEqual([]);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  it('reads index rows written before idx_ttl (each raised to the longest expiry) the same, and an add keeps that longest', async () => {
    const dir = tempDir('store-legacy-index');
    const first = new SqliteStore(dir.dir);
    await first.close();
    const db = new DatabaseSync(path.join(dir.dir, 'selfie-idp.sqlite'));
    const longest = Date.now() + 3000;
    db.prepare('INSERT INTO idx (key, member, expires_at) VALUES (?, ?, ?), (?, ?, ?)').run('ix', 'a', longest, 'ix', 'b', longest);
    db.close();
    const store = new SqliteStore(dir.dir);
    try {
      expect(await store.indexMembers('ix')).toEqual(['a', 'b']);
      await store.indexAdd('ix', 'c', { ttl: 1 });
      await sleep(1200);
      expect(await store.indexMembers('ix')).toEqual(['a', 'b', 'c']);
      await sleep(2000);
      expect(await store.indexMembers('ix')).toEqual([]);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});

describe('redis store', () => {
  it('two instances on one Redis share one rate limit', async () => {
    const prefix = uniquePrefix('shared-limit');
    const [a, b] = await Promise.all([RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: prefix }), RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: prefix })]);
    try {
      const [la, lb] = [a.rateLimiter('lookup', { points: 5, durationSeconds: 60 }), b.rateLimiter('lookup', { points: 5, durationSeconds: 60 })];
      const states = [];
      for (let i = 0; i < 8; i++) states.push(await (i % 2 ? lb : la).consume('203.0.113.7'));
      expect(states.map((s) => s.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails fast with a clear message when Redis is unreachable', async () => {
    const started = Date.now();
    await expect(RedisStore.connect({ url: 'redis://127.0.0.1:1/0', keyPrefix: 'x:', connectTimeoutMs: 1000 })).rejects.toThrow(
      /REDIS_URL: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('never puts the password in its description or errors', async () => {
    await expect(RedisStore.connect({ url: 'redis://user:hunter2@127.0.0.1:1/0', keyPrefix: 'x:', connectTimeoutMs: 500 })).rejects.toThrow(
      /^(?!.*hunter2)/s,
    );
  });
});
