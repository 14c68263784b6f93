/**
 * CPU time of PASSIVE per session (decode of the still + burst, then passiveLiveness), one thread,
 * warm: median over `--runs` passes on sessions of every kind for `--seeds` from the generated set
 * (node bench/liveness/generate.ts), with the screen-light pattern each session was recorded under
 * (`--no-screen-light`: without its signals). `--dump FILE` writes every signal's output (to diff before/after).
 *   PATH=node_modules/.bin:$PATH node bench/liveness/passive-cpu.ts --seeds 1001-1006 --runs 5
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeRgb } from '../../src/liveness/image.ts';
import { passiveLiveness } from '../../src/liveness/passive.ts';
import type { Frame } from '../../src/liveness/types.ts';
import { loadRenderedSessions } from './rendered-sessions.ts';

const { values } = parseArgs({ options: { data: { type: 'string', default: 'data/liveness-synthetic' }, seeds: { type: 'string', default: '1001-1006' }, runs: { type: 'string', default: '5' }, dump: { type: 'string' }, 'no-screen-light': { type: 'boolean', default: false } } });
const noLight = values['no-screen-light'];
const [s0, s1] = values.seeds!.split('-').map(Number) as [number, number];
const sessions = loadRenderedSessions(values.data!, [s0, s1]);
const runs = Number(values.runs);
const dec: number[][] = sessions.map(() => []), sig: number[][] = sessions.map(() => []);
const out: Record<string, unknown> = {};
for (let r = 0; r <= runs; r++) {
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i]!;
    const t0 = performance.now();
    const still = await decodeRgb(s.still);
    const burst: Frame[] = [];
    for (let k = 0; k < s.frames.length; k++) burst.push({ image: await decodeRgb(s.frames[k]!), t: s.meta.times[k]! });
    const t1 = performance.now();
    const res = passiveLiveness({ still, face: { box: s.meta.stillFace.box }, burst, captureIndex: s.meta.captureIndex, screenPattern: noLight ? undefined : s.meta.screenPattern });
    const t2 = performance.now();
    if (r === 0) { out[s.id] = { score: res.score, signals: res.signals.map((x) => ({ ...x, warning: x.warning?.risk })) }; continue; } // warm-up pass
    dec[i]!.push(t1 - t0); sig[i]!.push(t2 - t1);
  }
}
const med = (a: number[]) => { const b = a.slice().sort((x, y) => x - y); return b[b.length >> 1]!; };
const perDec = dec.map(med), perSig = sig.map(med), perAll = dec.map((d, i) => med(d.map((v, k) => v + sig[i]![k]!)));
const f = (v: number) => v.toFixed(1);
console.log(`${sessions.length} sessions (seeds ${values.seeds}), median of ${runs} warm runs each; then median / p95 over sessions`);
console.log(`decode ${f(med(perDec))} ms, passiveLiveness ${f(med(perSig))} ms (p95 ${f(perSig.slice().sort((a, b) => a - b)[Math.floor(0.95 * (perSig.length - 1))]!)}), total ${f(med(perAll))} ms, mean total ${f(perAll.reduce((a, b) => a + b, 0) / perAll.length)} ms`);
if (values.dump) fs.writeFileSync(values.dump, JSON.stringify(out, null, 1));
