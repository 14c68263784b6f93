// One contract, two stores: the embedded sqlite store and the real Redis server.
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { storeContract } from './contract.ts';
import { TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';

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
