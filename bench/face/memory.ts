/**
 * Where a pool worker's memory goes: one worker (same options as the pool) reports, after each start-up
 * stage and after N analyses, the process RSS, its own V8 heap, ArrayBuffers and the wasm heap size.
 *
 *   PATH=node_modules/.bin:$PATH node bench/face/memory.ts [--runs N]
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { FACES_DIR, selfieFrame } from './common.ts';

const MB = (b: number) => (b / 1048576).toFixed(1);
/** RssAnon / RssFile of the process, and the resident part of the mapping of `wasmBytes` bytes (the wasm heap). */
function proc(wasmBytes = 0): string {
  try {
    const s = fs.readFileSync('/proc/self/status', 'utf8');
    const g = (k: string) => Number(/(\d+) kB/.exec(s.split('\n').find((l) => l.startsWith(k)) ?? '')?.[1] ?? NaN);
    let wasmRss = 0;
    if (wasmBytes) {
      let size = 0;
      for (const l of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
        if (l.startsWith('Size:')) size = Number(/(\d+)/.exec(l)![1]);
        else if (l.startsWith('Rss:') && size * 1024 === wasmBytes) wasmRss += Number(/(\d+)/.exec(l)![1]);
      }
    }
    return `RssAnon ${Math.round(g('RssAnon') / 1024)} RssFile ${Math.round(g('RssFile') / 1024)}${wasmBytes ? ` wasm resident ${Math.round(wasmRss / 1024)}` : ''}`;
  } catch { return ''; }
}

if (isMainThread) {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
  const runs = Number(arg('--runs') ?? 30);
  const frame = await selfieFrame(path.join(FACES_DIR, 'amy', 'amy2.png'), { faceSize: 240 });
  console.log(`main thread before worker: rss ${MB(process.memoryUsage().rss)} MB  ${proc()}`);
  const w = new Worker(new URL(import.meta.url), { workerData: { runs }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  w.on('message', (m: { type: string; line?: string }) => {
    if (m.type === 'line') console.log(m.line);
    if (m.type === 'frame') w.postMessage(frame);
  });
  await new Promise((r) => w.on('exit', r));
} else {
  const port = parentPort!;
  const { createAnalyzer } = await import('../../src/face/analyze.ts');
  let wasmBytes = () => 0;
  const report = (stage: string) => {
    const m = process.memoryUsage();
    const h = v8.getHeapStatistics();
    port.postMessage({ type: 'line', line: `${stage.padEnd(22)} rss ${MB(m.rss).padStart(6)}  ${proc(wasmBytes())}  v8 used ${MB(h.used_heap_size)} total ${MB(h.total_heap_size)} phys ${MB(h.total_physical_size)}  arrayBuffers ${MB(m.arrayBuffers)}  wasm heap ${MB(wasmBytes())}` });
  };
  report('worker started');
  const an = await createAnalyzer();
  const be = an.runtime.tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
  wasmBytes = () => be.wasm.HEAPU8.buffer.byteLength;
  report('models loaded');
  const z = (h: number, w: number) => ({ data: new Uint8Array(h * w * 3).fill(128), width: w, height: h });
  await an.detectAt(z(480, 640), 224);
  report('detector 224');
  await an.detectAt(z(480, 640), 320);
  report('detector 320');
  await an.warmUp();
  report('warmed up');
  const frame = await new Promise<Uint8Array>((r) => { port.once('message', r); port.postMessage({ type: 'frame' }); });
  const runs = (await import('node:worker_threads')).workerData.runs as number;
  for (let i = 0; i < runs; i++) await an.analyze(new Uint8Array(frame));
  report(`after ${runs} analyses`);
  if (process.env.FACE_MEM_HOLD) { port.postMessage({ type: 'line', line: `holding, pid ${process.pid}` }); await new Promise((r) => setTimeout(r, Number(process.env.FACE_MEM_HOLD))); }
  process.exit(0);
}
