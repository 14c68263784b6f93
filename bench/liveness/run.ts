/**
 * ISO/IEC 30107-3 metrics of PASSIVE liveness on the synthetic set (bench/liveness/generate.ts) and
 * on the shared bona fide face crops: APCER per attack type (PAI species), BPCER, the ROC over the
 * threshold, and the latency liveness adds per session (decode of the still and the burst + all
 * signals; the face box comes from the face engine's analysis the verifier already made).
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/run.ts [--data data/liveness-synthetic]
 *        [--seeds 1001-1020] [--faces ../shared/faces] [--json bench/results/liveness.raw.json]
 *        [--generator-box] [--no-screen-light]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ATTACK_THRESHOLD, LIVE_THRESHOLD, SCREEN_LIGHT_LIVE_THRESHOLD } from '../../src/liveness/combine.ts';
import { decodeRgb } from '../../src/liveness/image.ts';
import { passiveLiveness } from '../../src/liveness/passive.ts';
import { DEFAULT_FACES_DIR } from '../../test/synthetic/head.ts';
import type { Box, FaceGeometry, Frame, LivenessResult } from '../../src/liveness/types.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/liveness-synthetic' },
    seeds: { type: 'string' },
    faces: { type: 'string', default: DEFAULT_FACES_DIR },
    json: { type: 'string' },
    // judge as if the page had not shown the pattern (screen_light left out)
    'no-screen-light': { type: 'boolean', default: false },
    // the generator's face box (tighter than the face engine's) instead of the face engine's
    // analysis of the still, which is what the verifier has (default)
    'generator-box': { type: 'boolean', default: false },
  },
});

/** Seed filter "1-20,1001-1020" (bona fide samples are stored as seed*10+i and filtered by seed). */
function inSeeds(seed: number, spec: string | undefined): boolean {
  if (!spec) return true;
  return spec.split(',').some((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? seed === a : seed >= a! && seed <= b;
  });
}

interface Row { kind: string; seed: number; attack: boolean; score: number; isAttack: boolean; live: boolean; ms: number; signals: Record<string, number | null>; details: Record<string, unknown> }

const engine = !values['generator-box'] ? await (await import('../../src/face/index.ts')).createFaceEngine() : null;
const rows: Row[] = [];
const noFace: Record<string, number> = {};
const kinds = fs.readdirSync(values.data!).filter((k) => fs.statSync(path.join(values.data!, k)).isDirectory()).sort();
for (const kind of kinds) {
  for (const seedDir of fs.readdirSync(path.join(values.data!, kind)).sort((a, b) => Number(a) - Number(b))) {
    const dir = path.join(values.data!, kind, seedDir);
    const metaFile = path.join(dir, 'sample.json');
    if (!fs.existsSync(metaFile)) continue;
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { kind: string; attack: boolean; seed: number; stillFace: { box: Box }; captureIndex: number; times: number[]; screenPattern?: number[] };
    const seedNum = kind === 'bona_fide' ? Math.floor(meta.seed / 10) : meta.seed;
    if (!inSeeds(seedNum, values.seeds)) continue;
    const stillBytes = fs.readFileSync(path.join(dir, 'still.jpg'));
    const frameFiles = fs.readdirSync(path.join(dir, 'frames')).sort();
    const frameBytes = frameFiles.map((f) => fs.readFileSync(path.join(dir, 'frames', f)));
    let face: FaceGeometry = { box: meta.stillFace.box };
    if (engine) {
      try {
        const a = await engine.analyze(stillBytes); // as the verifier calls it (quality gate on)
        face = { box: a.face.box, landmarks: a.face.landmarks };
      } catch {
        noFace[kind] = (noFace[kind] ?? 0) + 1; // refused by the face engine: the verifier declines it before liveness
        continue;
      }
    }
    const t0 = performance.now();
    const still = await decodeRgb(stillBytes);
    const burst: Frame[] = [];
    for (let i = 0; i < frameBytes.length; i++) burst.push({ image: await decodeRgb(frameBytes[i]!), t: meta.times[i]! });
    const r = passiveLiveness({ still, face, burst, captureIndex: meta.captureIndex, screenPattern: values['no-screen-light'] ? undefined : meta.screenPattern });
    const ms = performance.now() - t0;
    rows.push(toRow(kind, meta.seed, meta.attack, r, ms));
  }
}

// the shared face crops: bona fide stills, tight crops (single-frame signals that apply)
const crops: Row[] = [];
if (fs.existsSync(values.faces!)) {
  for (const id of fs.readdirSync(values.faces!).sort()) {
    const d = path.join(values.faces!, id);
    if (!fs.statSync(d).isDirectory()) continue;
    for (const f of fs.readdirSync(d).sort()) {
      const bytes = fs.readFileSync(path.join(d, f));
      const t0 = performance.now();
      const img = await decodeRgb(bytes);
      // tight crops: the face fills the image (the engine's box is about 5% inside the edges)
      const box = { x: img.width * 0.05, y: img.height * 0.05, width: img.width * 0.9, height: img.height * 0.9 };
      const r = passiveLiveness({ still: img, face: { box } });
      crops.push(toRow('shared_crop', 0, false, r, performance.now() - t0));
    }
  }
}

function toRow(kind: string, seed: number, attack: boolean, r: LivenessResult, ms: number): Row {
  const signals: Record<string, number | null> = {};
  const details: Record<string, unknown> = {};
  for (const s of r.signals) { signals[s.signal] = s.applies ? s.score : null; details[s.signal] = s.details; }
  return { kind, seed, attack, score: r.score, isAttack: r.attack, live: r.live, ms, signals, details };
}

const pct = (a: number, n: number) => (n ? ((100 * a) / n).toFixed(1).padStart(5) + '%' : '   n/a');
const bona = rows.filter((r) => !r.attack);
const attackKinds = [...new Set(rows.filter((r) => r.attack).map((r) => r.kind))];
console.log(`PASSIVE on ${values.data}${values.seeds ? ` seeds ${values.seeds}` : ''}: ${bona.length} bona fide sessions, ${rows.length - bona.length} attack sessions; ${crops.length} shared face crops (stills only)`);
if (engine) console.log(`face boxes from the face engine (as in the verifier); stills the engine refused (no face, quality), left out: ${JSON.stringify(noFace)}`);
else console.log('face boxes from the generator (--generator-box: tighter than the face engine\'s, which the verifier uses)');
if (values['no-screen-light']) console.log('screen light: the pattern is ignored (screen_light, light_shading, light_falloff left out)');
console.log(`decision: live if score > ${values['no-screen-light'] ? LIVE_THRESHOLD : `${SCREEN_LIGHT_LIVE_THRESHOLD} (screen light; ${LIVE_THRESHOLD} on the crops, which have no burst)`} and not an attack (attack: score <= ${ATTACK_THRESHOLD.PASSIVE})`);
console.log('');
console.log('type                 n   APCER   (attack decision)   mean score');
for (const k of attackKinds) {
  const a = rows.filter((r) => r.kind === k);
  console.log(`${k.padEnd(18)} ${String(a.length).padStart(3)}  ${pct(a.filter((r) => r.live).length, a.length)}   ${pct(a.filter((r) => r.isAttack).length, a.length)} flagged     ${(a.reduce((s, r) => s + r.score, 0) / a.length).toFixed(1)}`);
}
const apcerMax = Math.max(...attackKinds.map((k) => { const a = rows.filter((r) => r.kind === k); return a.filter((r) => r.live).length / a.length; }));
const allA = rows.filter((r) => r.attack);
console.log(`${'all attacks'.padEnd(18)} ${String(allA.length).padStart(3)}  ${pct(allA.filter((r) => r.live).length, allA.length)}   APCER_max ${(100 * apcerMax).toFixed(1)}%`);
console.log(`${'BPCER (sessions)'.padEnd(18)} ${String(bona.length).padStart(3)}  ${pct(bona.filter((r) => !r.live).length, bona.length)}   ${pct(bona.filter((r) => r.isAttack).length, bona.length)} flagged as attack`);
if (crops.length) console.log(`${'BPCER (crops)'.padEnd(18)} ${String(crops.length).padStart(3)}  ${pct(crops.filter((r) => !r.live).length, crops.length)}   ${pct(crops.filter((r) => r.isAttack).length, crops.length)} flagged as attack`);
console.log('');
console.log('ROC (live if score > t):');
console.log(`   t   BPCER  APCER_all  APCER_max  ${attackKinds.map((k) => k.slice(0, 12).padStart(12)).join(' ')}`);
for (const t of [5, 10, 20, 30, 40, 50, 60, 70, 80, 90]) {
  const b = bona.filter((r) => r.score <= t).length / bona.length;
  const per = attackKinds.map((k) => { const a = rows.filter((r) => r.kind === k); return a.filter((r) => r.score > t).length / a.length; });
  const all = allA.filter((r) => r.score > t).length / allA.length;
  console.log(`${String(t).padStart(4)}  ${(100 * b).toFixed(1).padStart(5)}%    ${(100 * all).toFixed(1).padStart(5)}%     ${(100 * Math.max(...per)).toFixed(1).padStart(5)}%  ${per.map((p) => ((100 * p).toFixed(1) + '%').padStart(12)).join(' ')}`);
}
const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(0);
console.log('');
console.log(`added latency per PASSIVE session (decode still + ${'12'}-frame burst + signals, one thread): p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
console.log('signal that fired most (score < 0.5) per attack type:');
for (const k of attackKinds) {
  const a = rows.filter((r) => r.kind === k);
  const counts: Record<string, number> = {};
  for (const r of a) for (const [s, v] of Object.entries(r.signals)) if (v !== null && v < 0.5) counts[s] = (counts[s] ?? 0) + 1;
  console.log(`  ${k.padEnd(16)} ${Object.entries(counts).sort((x, y) => y[1] - x[1]).map(([s, c]) => `${s} ${c}/${a.length}`).join(', ')}`);
}
await engine?.close();
if (values.json) {
  fs.mkdirSync(path.dirname(values.json), { recursive: true });
  fs.writeFileSync(values.json, JSON.stringify({ rows, crops }, null, 0));
}
