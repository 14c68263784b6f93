// The store contract, run against every store and Redis topology: contract.test.ts (embedded
// sqlite, the shared single Redis) and topologies.test.ts (Redis Cluster, Sentinel).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.ts';
import { sleep } from '../helpers/env.ts';

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('rate limiter: counts per key, refuses past the limit with the wait, resets; concurrent actions counted once each', async () => {
      const limiter = store.rateLimiter(`test-${Math.random().toString(36).slice(2, 8)}`, { points: 3, durationSeconds: 60 });
      const states = [];
      for (let i = 0; i < 4; i++) states.push(await limiter.consume('ip-1'));
      expect(states.map((s) => s.allowed)).toEqual([true, true, true, false]);
      expect(states.map((s) => s.remaining)).toEqual([2, 1, 0, 0]);
      expect(states[3]!.resetSeconds).toBeGreaterThanOrEqual(1);
      expect(states[3]!.resetSeconds).toBeLessThanOrEqual(60);
      expect((await limiter.consume('ip-2')).allowed).toBe(true); // another key has its own count
      expect((await limiter.peek('ip-1'))?.remaining).toBe(0);
      await limiter.reset('ip-1');
      expect(await limiter.peek('ip-1')).toBeUndefined();
      expect((await limiter.consume('ip-1')).remaining).toBe(2);
      const racing = await Promise.all(Array.from({ length: 10 }, () => limiter.consume('ip-3')));
      expect(racing.filter((s) => s.allowed)).toHaveLength(3);
      expect(() => store.rateLimiter('Bad Name', { points: 1, durationSeconds: 1 })).toThrow(/rate limiter name/);
      expect(() => store.rateLimiter('ok', { points: 0, durationSeconds: 1 })).toThrow(/whole numbers/);
    });

    it('round-trips JSON values, including empty arrays and floats', async () => {
      const value = { a: [], b: {}, c: 1.25, d: 'ünï', e: [1, { f: null }], g: true };
      await store.set('json', value);
      expect(await store.get('json')).toEqual(value);
      await store.set('scalar', 42);
      expect(await store.get('scalar')).toBe(42);
      expect(await store.get('missing')).toBeUndefined();
    });

    it('set replaces the value and the TTL', async () => {
      await store.set('replace', { v: 1 }, { ttl: 100 });
      await store.set('replace', { v: 2 });
      expect(await store.get('replace')).toEqual({ v: 2 });
      expect(await store.ttl('replace')).toBe(-1);
    });

    it('expires keys after their TTL', async () => {
      await store.set('short', { x: 1 }, { ttl: 1 });
      expect(await store.get('short')).toEqual({ x: 1 });
      const ttl = await store.ttl('short');
      expect(ttl).toBeGreaterThanOrEqual(0);
      expect(ttl).toBeLessThanOrEqual(1);
      await sleep(1200);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.ttl('short')).toBeUndefined();
    });

    it('rejects a zero or negative TTL instead of storing a key that never expires', async () => {
      await expect(store.set('bad-ttl', 1, { ttl: 0 })).rejects.toThrow(/ttl/);
      await expect(store.set('bad-ttl', 1, { ttl: -5 })).rejects.toThrow(/ttl/);
      expect(await store.get('bad-ttl')).toBeUndefined();
    });

    it('setIfAbsent creates once, and again after expiry', async () => {
      expect(await store.setIfAbsent('once', 'a', { ttl: 1 })).toBe(true);
      expect(await store.setIfAbsent('once', 'b', { ttl: 1 })).toBe(false);
      expect(await store.get('once')).toBe('a');
      await sleep(1200);
      expect(await store.setIfAbsent('once', 'c', { ttl: 5 })).toBe(true);
      expect(await store.get('once')).toBe('c');
    });

    it('take returns the value once and deletes it', async () => {
      await store.set('ticket', { n: 7 }, { ttl: 60 });
      expect(await store.take('ticket')).toEqual({ n: 7 });
      expect(await store.take('ticket')).toBeUndefined();
      expect(await store.get('ticket')).toBeUndefined();
    });

    it('of 20 concurrent take calls exactly one wins', async () => {
      await store.set('race', { prize: true }, { ttl: 60 });
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take('race')));
      expect(results.filter((r) => r !== undefined)).toEqual([{ prize: true }]);
    });

    it('of 20 concurrent setIfAbsent calls exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent('race-create', i, { ttl: 60 })));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('take does not return an expired value', async () => {
      await store.set('stale-ticket', 1, { ttl: 1 });
      await sleep(1200);
      expect(await store.take('stale-ticket')).toBeUndefined();
    });

    it('patch merges fields and keeps the TTL', async () => {
      await store.set('rec', { a: 1, list: [] }, { ttl: 100 });
      expect(await store.patch('rec', { b: 2, list: [1] })).toBe(true);
      expect(await store.get('rec')).toEqual({ a: 1, b: 2, list: [1] });
      const ttl = await store.ttl('rec');
      expect(ttl).toBeGreaterThan(90);
      expect(ttl).toBeLessThanOrEqual(100);
    });

    it('patch on an absent or expired key writes nothing', async () => {
      expect(await store.patch('never', { a: 1 })).toBe(false);
      expect(await store.get('never')).toBeUndefined();
      await store.set('dies', { a: 1 }, { ttl: 1 });
      await sleep(1200);
      expect(await store.patch('dies', { consumed: 1 })).toBe(false);
      expect(await store.get('dies')).toBeUndefined();
      expect(await store.ttl('dies')).toBeUndefined();
    });

    it('delete removes keys and counts them', async () => {
      await store.set('d1', 1);
      await store.set('d2', 2);
      expect(await store.delete('d1', 'd2', 'd3')).toBe(2);
      expect(await store.get('d1')).toBeUndefined();
    });

    it('incr counts within a window that starts at the first increment', async () => {
      expect(await store.incr('counter', { ttl: 1 })).toBe(1);
      expect(await store.incr('counter', { ttl: 1 })).toBe(2);
      await sleep(1200);
      expect(await store.incr('counter', { ttl: 1 })).toBe(1);
      expect(await store.get('counter')).toBe(1);
      const counts = await Promise.all(Array.from({ length: 10 }, () => store.incr('counter2', { ttl: 60 })));
      expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('indexes hold members, drop them, and expire with their longest TTL', async () => {
      await store.indexAdd('ix', 'a', { ttl: 1 });
      await store.indexAdd('ix', 'b', { ttl: 1 });
      await store.indexAdd('ix', 'b', { ttl: 1 });
      expect((await store.indexMembers('ix')).sort()).toEqual(['a', 'b']);
      await store.indexRemove('ix', 'a');
      expect(await store.indexMembers('ix')).toEqual(['b']);
      await store.indexAdd('ix', 'c', { ttl: 3 });
      // Added after a longer-lived member, a short one lives as long as it (erasure indexes: a used
      // authorization code must stay findable while its account's session lives).
      await store.indexAdd('ix', 'd', { ttl: 1 });
      await sleep(1200);
      expect((await store.indexMembers('ix')).sort()).toEqual(['b', 'c', 'd']);
      expect(await store.delete('ix')).toBe(1);
      expect(await store.indexMembers('ix')).toEqual([]);
    });

    it('an index emptied by removals is gone with its TTL: a member added afterwards has only its own', async () => {
      await store.indexAdd('ix2', 'long', { ttl: 30 });
      await store.indexRemove('ix2', 'long');
      await store.indexAdd('ix2', 'short', { ttl: 1 });
      expect(await store.indexMembers('ix2')).toEqual(['short']);
      await sleep(1200);
      expect(await store.indexMembers('ix2')).toEqual([]);
    });

    it('delete removes a key whose TTL has passed too (it does not count, as on Redis)', async () => {
      await store.set('gone-soon', { about: 'someone' }, { ttl: 1 });
      await sleep(1200);
      expect(await store.delete('gone-soon')).toBe(0);
      await store.set('gone-soon', { fresh: true }, { ttl: 60 });
      expect(await store.delete('gone-soon')).toBe(1);
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('writeAll writes a group of keys sharing a {hash tag}, all of them', async () => {
      await store.writeAll([
        { set: 'wa:{s1}:record', value: { status: 'Approved', list: [] }, ttl: 100 },
        { set: 'wa:{s1}:job', value: { event_id: 'e1' } },
        { indexAdd: 'wa:{s1}:jobs', member: 'e1', ttl: 1 },
      ]);
      expect(await store.get('wa:{s1}:record')).toEqual({ status: 'Approved', list: [] });
      expect(await store.get('wa:{s1}:job')).toEqual({ event_id: 'e1' });
      expect(await store.indexMembers('wa:{s1}:jobs')).toEqual(['e1']);
      expect(await store.ttl('wa:{s1}:record')).toBeGreaterThan(90);
      expect(await store.ttl('wa:{s1}:job')).toBe(-1);
      await sleep(1200); // the index member's TTL applied too
      expect(await store.indexMembers('wa:{s1}:jobs')).toEqual([]);
    });

    it('writeAll refuses keys that Redis Cluster could put in different slots, and a bad TTL, writing nothing', async () => {
      await expect(store.writeAll([{ set: 'wa:{a}:x', value: 1 }, { set: 'wa:{b}:y', value: 2 }])).rejects.toThrow(/hash tag/);
      await expect(store.writeAll([{ set: 'wa:plain', value: 1 }, { set: 'wa:{b}:y', value: 2 }])).rejects.toThrow(/hash tag/);
      await expect(store.writeAll([{ set: 'wa:{c}:x', value: 1 }, { set: 'wa:{c}:y', value: 2, ttl: 0 }])).rejects.toThrow(/ttl/);
      for (const key of ['wa:{a}:x', 'wa:{b}:y', 'wa:plain', 'wa:{c}:x', 'wa:{c}:y']) expect(await store.get(key)).toBeUndefined();
    });
  });
}
