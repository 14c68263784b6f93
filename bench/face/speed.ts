/**
 * Speed on a 640×480 selfie-like frame (a shared face scaled to 240 px, JPEG q90):
 * cold start to warm, analyze p50/p95 with one caller and with 2 concurrent callers through the
 * worker pool, RSS with models loaded, then the reference pipeline (SSD MobileNet v1 + 68 landmarks
 * + recognition, one call per image, in-process) on the same frame for the ratio.
 *
 *   PATH=node_modules/.bin:$PATH node bench/face/speed.ts [--runs N] [--no-reference]
 *   PATH=node_modules/.bin:$PATH node bench/face/speed.ts --in-process wasm|cpu   (backend comparison, no pool)
 *
 * Then the previous engine (same detector and landmarks, dlib chip + 128-d ResNet on tfjs instead of
 * the ArcFace crop + onnxruntime) against the current one, in-process in one thread, calls alternated
 * so that both see the same machine load: the "no slower than today's engine" ratio.
 */
import os from 'node:os';
import path from 'node:path';
import { createAnalyzer } from '../../src/face/analyze.ts';
import { createFaceEngine } from '../../src/face/index.ts';
import { FACES_DIR, percentile, selfieFrame } from './common.ts';
import { createReference } from './reference.ts';

const arg = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const RUNS = Number(arg('--runs') ?? 60);
const frame = await selfieFrame(path.join(FACES_DIR, 'amy', 'amy2.png'), { faceSize: 240 });
const mb = () => Math.round(process.memoryUsage().rss / 1048576);
const stats = (ms: number[]) => { const s = [...ms].sort((a, b) => a - b); return `p50 ${percentile(s, 50).toFixed(1)} ms  p95 ${percentile(s, 95).toFixed(1)} ms  (n=${s.length})`; };
console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(2)}, frame 640×480 JPEG ${frame.length} bytes`);

const inProcess = arg('--in-process');
if (inProcess === 'wasm' || inProcess === 'cpu') {
  const t0 = performance.now();
  const an = await createAnalyzer({ backend: inProcess });
  await an.warmUp();
  console.log(`in-process ${inProcess}: load + warm-up ${Math.round(performance.now() - t0)} ms`);
  const ms: number[] = [];
  for (let i = 0; i < Math.min(RUNS, inProcess === 'cpu' ? 10 : RUNS) + 3; i++) {
    const t = performance.now();
    await an.analyze(frame);
    if (i >= 3) ms.push(performance.now() - t);
  }
  console.log(`in-process ${inProcess} analyze: ${stats(ms)}`);
  process.exit(0);
}

// --- engine (worker pool) ---
const rssBefore = mb();
const t0 = performance.now();
const engine = await createFaceEngine();
const readyMs = performance.now() - t0;
const tf = performance.now();
await engine.analyze(frame);
const firstMs = performance.now() - tf;
console.log(`engine: pool ${engine.stats().size} workers; cold start to ready ${Math.round(readyMs)} ms (slowest worker load + warm-up ${engine.stats().startupMs} ms), first analyze ${Math.round(firstMs)} ms`);
for (let i = 0; i < 6; i++) await engine.analyze(frame);

const single: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await engine.analyze(frame);
  single.push(performance.now() - t);
}
console.log(`engine analyze, 1 caller:   ${stats(single)}`);

const conc: number[] = [];
const tc = performance.now();
await Promise.all([0, 1].map(async () => {
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await engine.analyze(frame);
    conc.push(performance.now() - t);
  }
}));
const thr = (2 * RUNS) / ((performance.now() - tc) / 1000);
console.log(`engine analyze, 2 callers:  ${stats(conc)}  throughput ${thr.toFixed(1)}/s`);
console.log(`RSS with models loaded (main thread + ${engine.stats().size} workers): ${mb()} MB (process before engine: ${rssBefore} MB)`);
await engine.close();

{
  const cur = await createAnalyzer();
  const old = await createAnalyzer({ legacyOnly: true });
  await cur.warmUp();
  await old.warmUp();
  for (let i = 0; i < 5; i++) { await cur.analyze(frame); await old.analyze(frame); }
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now(); await cur.analyze(frame); a.push(performance.now() - t);
    t = performance.now(); await old.analyze(frame); b.push(performance.now() - t);
  }
  console.log(`in-process, alternated: current engine ${stats(a)}`);
  console.log(`in-process, alternated: previous engine (128-d ResNet) ${stats(b)}`);
  console.log(`ratio previous p50 / current p50: ${(percentile([...b].sort((x, y) => x - y), 50) / percentile([...a].sort((x, y) => x - y), 50)).toFixed(2)}×`);
}

if (!process.argv.includes('--no-reference')) {
  const ref = await createReference();
  for (let i = 0; i < 3; i++) await ref.analyze(frame);
  const r: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 30); i++) {
    const t = performance.now();
    const out = await ref.analyze(frame);
    if (!out.embedding) throw new Error('reference found no face');
    r.push(performance.now() - t);
  }
  console.log(`reference (SSD MobileNet v1 + 68 + recognition, in-process): ${stats(r)}`);
  const ours = percentile([...single].sort((a, b) => a - b), 50);
  const theirs = percentile([...r].sort((a, b) => a - b), 50);
  console.log(`ratio reference p50 / engine p50: ${(theirs / ours).toFixed(2)}×`);
  console.log(`load average at the end ${os.loadavg()[0]!.toFixed(2)}`);
}
