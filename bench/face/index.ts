/**
 * The 1:N face index (src/verifier/faces): what it costs at 10,000 and 100,000 enrolled faces.
 * Synthetic templates: random unit vectors of the engine's dimension (512), which is what a real
 * embedding is to the index (the search does not care whose face it is).
 *
 * Per size:
 * - insert: FlatIndex.upsert of N vectors already in memory (the index structure alone);
 * - memory: RSS and heap + ArrayBuffers after insert, minus before (after a GC, --expose-gc);
 * - query: best() of 1,000 random probes (300 at 100,000) over all N (exact, brute force), p50 / p99 / max;
 * - start-up from the store (--store): N templates sealed (AES-256-GCM) and written to an embedded
 *   SQLite store the way enrolment writes them, then FaceSearchIndex.start() timed: read the set,
 *   read and decrypt every template, insert. Then a search through FaceSearchIndex, which checks
 *   the change log first (one store read), p50 / p99.
 *
 * - open: N sealed templates opened (decrypted, parsed, checked) and inserted: a build's CPU work.
 *
 *   PATH=node_modules/.bin:$PATH node --expose-gc bench/face/index.ts [--sizes 10000,100000] [--store]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EMBEDDING_SIZE, MODEL, openTemplate, sealTemplate, type FaceTemplate, type TemplateKeyring } from '../../src/face/index.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { faceRef } from '../../src/verifier/faces/changes.ts';
import { FlatIndex } from '../../src/verifier/faces/flat-index.ts';
import { FaceSearchIndex } from '../../src/verifier/faces/search-index.ts';
import { K } from '../../src/verifier/keys.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : (process.argv[i + 1] ?? '');
};
const sizes = (arg('sizes') ?? '10000,100000').split(',').map(Number);
const withStore = process.argv.includes('--store');
/** Probes per size (fewer at 100,000, where each is a full scan of 200 MB). */
const queriesFor = (n: number) => (n >= 50_000 ? 300 : 1000);

function randomUnit(): Float32Array {
  const v = new Float32Array(EMBEDDING_SIZE);
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    // Box-Muller: a Gaussian vector, normalised, is uniform on the sphere.
    const g = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
    v[i] = g;
    s += g * g;
  }
  const n = Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
function mem() {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.arrayBuffers };
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const ms = (x: number) => `${x.toFixed(2)} ms`;

console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, dim ${EMBEDDING_SIZE}${globalThis.gc ? '' : ' (no --expose-gc: memory figures are rough)'}`);
for (const n of sizes) {
  const vectors = Array.from({ length: n }, randomUnit);
  const before = mem();
  const t0 = performance.now();
  const index = new FlatIndex<{ vendor_data: string }>(EMBEDDING_SIZE);
  for (let i = 0; i < n; i++) index.upsert(`ref-${i}`, vectors[i]!, { vendor_data: `acct-${i}` });
  const insertMs = performance.now() - t0;
  const after = mem();
  const times: number[] = [];
  const QUERIES = queriesFor(n);
  const probes = Array.from({ length: QUERIES }, randomUnit);
  const cpu0 = process.cpuUsage();
  for (const probe of probes) {
    const s = performance.now();
    index.best(probe);
    times.push(performance.now() - s);
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(`N=${n}: insert ${ms(insertMs)}; memory +${mb(after.rss - before.rss)} RSS, +${mb(after.heap - before.heap)} heap+buffers (vectors alone ${mb(n * EMBEDDING_SIZE * 4)}); query wall p50 ${ms(pct(times, 50))} p99 ${ms(pct(times, 99))} max ${ms(Math.max(...times))}, CPU ${ms((cpu.user + cpu.system) / 1000 / QUERIES)} per query`);
  index.clear();

  // Start-up's CPU part without a store: open (AES-256-GCM + JSON + checks) N sealed templates.
  {
    const keyring: TemplateKeyring = { current: 'bench', keys: { bench: crypto.randomBytes(32) } };
    const sealed = vectors.map((e) => sealTemplate({ v: 2, model: { ...MODEL }, embedding: e, enrolment: e, recent: [], created: new Date().toISOString(), quality: { brightness: 0.5, contrast: 0.15, sharpness: 100, faceSize: 240, centred: 1, images: 1 } }, keyring));
    const o0 = performance.now();
    const c0 = process.cpuUsage();
    const rebuilt = new FlatIndex<null>(EMBEDDING_SIZE);
    for (let i = 0; i < n; i++) rebuilt.upsert(`ref-${i}`, openTemplate(sealed[i]!, keyring).embedding, null);
    const c = process.cpuUsage(c0);
    console.log(`  open ${n} sealed templates + insert (a build's work less the store reads): ${ms(performance.now() - o0)} wall, ${ms((c.user + c.system) / 1000)} CPU = ${((c.user + c.system) / n).toFixed(1)} µs CPU/template`);
    rebuilt.clear();
  }

  if (withStore) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-bench-'));
    const store = new SqliteStore(dir);
    const keyring: TemplateKeyring = { current: 'bench', keys: { bench: crypto.randomBytes(32) } };
    const w0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t: FaceTemplate = { v: 2, model: { ...MODEL }, embedding: vectors[i]!, enrolment: vectors[i]!, recent: [], created: new Date().toISOString(), quality: { brightness: 0.5, contrast: 0.15, sharpness: 100, faceSize: 240, centred: 1, images: 1 } };
      await store.set(K.template(`acct-${i}`), { sealed: sealTemplate(t, keyring), source_session_id: null, images: 1, created_at: t.created });
      // What faceStored writes, less the change-log entry (a build does not read the log).
      const ref = faceRef('enrolled', `acct-${i}`);
      await store.set(K.faceRef(ref), { kind: 'enrolled', id: `acct-${i}` });
      await store.indexAdd(K.faces(), ref);
    }
    const writeMs = performance.now() - w0;
    const m0 = mem();
    const faces = new FaceSearchIndex(store, keyring, { pollMs: 0 });
    const s0 = performance.now();
    await faces.start();
    const startMs = performance.now() - s0;
    const m1 = mem();
    const searches: number[] = [];
    for (let q = 0; q < 200; q++) {
      const probe = randomUnit();
      const s = performance.now();
      await faces.searchEnrolled(probe, 50, null);
      searches.push(performance.now() - s);
    }
    console.log(`  from the embedded store: writing ${n} sealed templates took ${(writeMs / 1000).toFixed(1)} s (not part of start-up); start (read + decrypt + insert) ${ms(startMs)} = ${((startMs * 1000) / n).toFixed(1)} µs/template, +${mb(m1.rss - m0.rss)} RSS; search with change-log check p50 ${ms(pct(searches, 50))} p99 ${ms(pct(searches, 99))}`);
    faces.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
