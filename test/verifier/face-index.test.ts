// The 1:N index of each verifier instance, kept in step through the store's change log, on both
// stores: Redis (two connections, as two hosts) and the embedded SQLite (two handles on one file,
// as the server and a CLI process). Synthetic unit vectors sealed as real templates; no engine.
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EMBEDDING_SIZE, MODEL, type FaceAnalysis } from '../../src/face/index.ts';
import type { TemplateKeyring } from '../../src/verifier/config.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/index.ts';
import { faceRef } from '../../src/verifier/faces/changes.ts';
import { FaceSearchIndex } from '../../src/verifier/faces/search-index.ts';
import { forgetVendor } from '../../src/verifier/forget.ts';
import { K } from '../../src/verifier/keys.ts';
import { saveTemplate } from '../../src/verifier/templates.ts';
import { TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';

const keyring: TemplateKeyring = { current: 'k1', keys: { k1: crypto.randomBytes(32) } };

/** A deterministic unit vector per seed (no chance in the outcome). */
function unit(seed: number): Float32Array {
  let x = seed * 2654435761 >>> 0;
  const v = new Float32Array(EMBEDDING_SIZE);
  for (let i = 0; i < v.length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    v[i] = x / 2 ** 32 - 0.5;
  }
  const n = Math.hypot(...v);
  return v.map((e) => e / n);
}

function analysis(embedding: Float32Array): FaceAnalysis {
  return {
    image: { width: 640, height: 480, format: 'jpeg' },
    face: { box: { x: 200, y: 120, width: 240, height: 240 }, score: 0.9, landmarks: [], pose: { yaw: 0, pitch: 0, roll: 0 }, quality: { brightness: 0.5, contrast: 0.15, sharpness: 100, faceSize: 240, centred: 0.95 } },
    embedding, otherFaces: [], model: { ...MODEL }, ms: 1,
  };
}

const enrol = (store: Store, vendor: string, seed: number) => saveTemplate(store, keyring, vendor, [analysis(unit(seed))], null);

type Pair = { a: Store; b: Store; close: () => Promise<void> };
const stores: Record<string, () => Promise<Pair>> = {
  redis: async () => {
    const prefix = uniquePrefix('face-index');
    const a = await RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: prefix });
    const b = await RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: prefix });
    return { a, b, close: async () => { await a.close(); await b.close(); } };
  },
  sqlite: async () => {
    const dir = tempDir('face-index');
    const a = new SqliteStore(dir.dir);
    const b = new SqliteStore(dir.dir);
    return { a, b, close: async () => { await a.close(); await b.close(); dir.remove(); } };
  },
};

const open: (Pair | FaceSearchIndex)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) x instanceof FaceSearchIndex ? x.stop() : await x.close();
});

describe.each(Object.keys(stores))('face index on %s', (name) => {
  async function setup(options: ConstructorParameters<typeof FaceSearchIndex>[2] = {}) {
    const pair = await stores[name]!();
    open.push(pair);
    const one = new FaceSearchIndex(pair.a, keyring, { pollMs: 0, ...options });
    const two = new FaceSearchIndex(pair.b, keyring, { pollMs: 0, ...options });
    open.push(one, two);
    return { ...pair, one, two };
  }

  it('builds from the store at start, and a change made through one handle reaches the other instance at its next search', async () => {
    const { a, b, one, two } = await setup();
    for (let i = 1; i <= 5; i++) await enrol(a, `acct-${i}`, i);
    await one.start();
    expect(one.enrolled.size).toBe(5);

    await enrol(b, 'acct-6', 6);
    const hit = await one.searchEnrolled(unit(6), 50, null);
    expect(hit).toMatchObject({ meta: { vendor_data: 'acct-6' }, score: 100 });
    // The account's own face is not a duplicate of itself; nothing else is near a random vector.
    expect(await one.searchEnrolled(unit(6), 50, 'acct-6')).toBeNull();
    expect(await two.searchEnrolled(unit(3), 50, null)).toMatchObject({ meta: { vendor_data: 'acct-3' } });
    expect(two.enrolled.size).toBe(6);
    expect([one.builds, two.builds]).toEqual([1, 1]);
  });

  it('a search reads no template: the vectors are the ones decrypted at the change', async () => {
    const { a, one } = await setup();
    await enrol(a, 'acct-1', 1);
    await one.start();
    // Spoil the stored template behind the log's back: a search that decrypted would find nothing.
    await a.set(K.template('acct-1'), { sealed: 'ft1.k1.spoilt.spoilt', source_session_id: null, images: 1, created_at: new Date().toISOString() });
    expect(await one.searchEnrolled(unit(1), 50, null)).toMatchObject({ meta: { vendor_data: 'acct-1' } });
  });

  it('erasure (forgetVendor through the other handle) removes the account from every instance', async () => {
    const { a, b, one, two } = await setup();
    await enrol(a, 'acct-1', 1);
    await enrol(a, 'acct-2', 2);
    await Promise.all([one.start(), two.start()]);
    await forgetVendor(b, 'acct-1');
    for (const index of [one, two]) {
      await index.sync();
      expect(index.enrolled.has(faceRef('enrolled', 'acct-1'))).toBe(false);
      expect(index.enrolled.has(faceRef('enrolled', 'acct-2'))).toBe(true);
    }
    expect(await one.searchEnrolled(unit(1), 50, null)).toBeNull();
    expect(await a.get(K.faceRef(faceRef('enrolled', 'acct-1')))).toBeUndefined();
    expect(await a.indexMembers(K.faces())).toEqual([faceRef('enrolled', 'acct-2')]);
  });

  it('an instance that missed a change (its log entry lost) rebuilds once the gap outlives the grace period', async () => {
    const { a, one } = await setup({ gapGraceMs: 0 });
    await enrol(a, 'acct-1', 1);
    await one.start();
    await enrol(a, 'acct-2', 2);
    const version = Number(await a.get(K.faceVersion()));
    await a.delete(K.faceChange(version));
    await one.sync();
    expect(one.builds).toBe(2);
    expect(one.enrolled.has(faceRef('enrolled', 'acct-2'))).toBe(true);
  });

  it('an entry not written yet (a writer between its bump and its entry) is waited for, not skipped', async () => {
    const { a, b, one } = await setup({ gapGraceMs: 60_000 });
    await one.start();
    // A writer (another handle) has stored acct-9's face and bumped the version, and has not
    // written the log entry yet.
    await enrol(b, 'acct-8', 8);
    const sealed = (await a.get<{ sealed: string }>(K.template('acct-8')))!.sealed;
    const ref = faceRef('enrolled', 'acct-9');
    await b.set(K.template('acct-9'), { sealed, source_session_id: null, images: 1, created_at: new Date().toISOString() });
    await b.set(K.faceRef(ref), { kind: 'enrolled', id: 'acct-9' });
    await b.indexAdd(K.faces(), ref);
    const n = await b.incr(K.faceVersion());
    await one.sync();
    expect(one.enrolled.has(faceRef('enrolled', 'acct-8'))).toBe(true);
    expect(one.enrolled.has(ref)).toBe(false);
    // The entry lands: the next search applies it (an index that had skipped it would never).
    await b.set(K.faceChange(n), ref, { ttl: 60 });
    await one.sync();
    expect(one.enrolled.has(ref)).toBe(true);
    expect(one.builds).toBe(1);
  });
});
