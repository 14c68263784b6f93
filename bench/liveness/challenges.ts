/**
 * FLASHING and ACTIVE_3D on synthetic answers: BPCER of genuine answers and APCER per attack kind.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/challenges.ts [--flashing 10] [--active 30] [--e2e 2]
 *
 * FLASHING: rendered recordings (320×240, 15 fps) of genuine and attack answers.
 * ACTIVE_3D: landmark/pose/embedding tracks as the face engine reports them (geometric, fast), and
 * with --e2e N, N rendered 640×480 recordings per kind analysed by the real face engine (slow).
 */
import { parseArgs } from 'node:util';
import { active3dLiveness, analyzeRecording, flashingLiveness } from '../../src/liveness/methods.ts';
import { encodeJpeg } from '../../src/liveness/image.ts';
import { ACTIVE_KINDS, generateActiveFrames, generateActiveTrack } from '../../src/liveness/synthetic/active.ts';
import { FLASH_KINDS, generateFlashingSample } from '../../src/liveness/synthetic/flashing.ts';
import { loadFaceSources } from '../../src/liveness/synthetic/head.ts';
import type { LivenessResult } from '../../src/liveness/types.ts';

const { values } = parseArgs({ options: { flashing: { type: 'string', default: '10' }, active: { type: 'string', default: '30' }, e2e: { type: 'string', default: '0' }, seed0: { type: 'string', default: '1001' } } });
const faces = await loadFaceSources();
const seed0 = Number(values.seed0);

function report(title: string, rows: Array<{ kind: string; r: LivenessResult }>): void {
  console.log(title);
  console.log('kind                      n   accepted (live)   flagged as attack   mean score   top risk');
  for (const kind of [...new Set(rows.map((x) => x.kind))]) {
    const a = rows.filter((x) => x.kind === kind);
    const risks: Record<string, number> = {};
    for (const x of a) for (const w of x.r.warnings) if (w.risk !== 'LIVENESS_FACE_ATTACK' && w.risk !== 'LOW_LIVENESS_SCORE') risks[w.risk] = (risks[w.risk] ?? 0) + 1;
    const top = Object.entries(risks).sort((p, q) => q[1] - p[1])[0];
    const live = a.filter((x) => x.r.live).length, att = a.filter((x) => x.r.attack).length;
    const label = kind === 'bona_fide' ? `BPCER ${(100 * (1 - live / a.length)).toFixed(1)}%` : `APCER ${(100 * live / a.length).toFixed(1)}%`;
    console.log(`${kind.padEnd(24)} ${String(a.length).padStart(3)}   ${String(live).padStart(3)}  ${label.padEnd(12)}  ${String(att).padStart(3)}               ${(a.reduce((s, x) => s + x.r.score, 0) / a.length).toFixed(1).padStart(5)}        ${top ? `${top[0]} ${top[1]}/${a.length}` : '-'}`);
  }
  console.log('');
}

const nf = Number(values.flashing);
if (nf > 0) {
  const rows: Array<{ kind: string; r: LivenessResult }> = [];
  const ms: number[] = [];
  for (const kind of FLASH_KINDS) for (let i = 0; i < nf; i++) {
    const s = await generateFlashingSample(kind, seed0 + i, faces);
    const t0 = performance.now();
    rows.push({ kind, r: flashingLiveness({ challenge: s.challenge, frames: s.frames, face: s.face }) });
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  report(`FLASHING: ${nf} rendered recordings per kind (seeds ${seed0}..${seed0 + nf - 1}); validation p50 ${ms[ms.length >> 1]!.toFixed(0)} ms per recording (${'~50'} frames)`, rows);
}

const na = Number(values.active);
if (na > 0) {
  const rows: Array<{ kind: string; r: LivenessResult }> = [];
  for (const kind of ACTIVE_KINDS) for (let i = 0; i < na; i++) {
    const s = generateActiveTrack(kind, seed0 + i, faces);
    rows.push({ kind, r: active3dLiveness({ challenge: s.challenge, samples: s.samples }) });
  }
  report(`ACTIVE_3D: ${na} engine-like landmark tracks per kind (seeds ${seed0}..${seed0 + na - 1})`, rows);
}

const ne = Number(values.e2e);
if (ne > 0) {
  const { createFaceEngine } = await import('../../src/face/index.ts');
  const engine = await createFaceEngine();
  const rows: Array<{ kind: string; r: LivenessResult }> = [];
  const times: number[] = [];
  try {
    for (const kind of ['bona_fide', 'wrong_order', 'flat_photo', 'still_photo', 'replay_other_challenge'] as const) for (let i = 0; i < ne; i++) {
      const s = await generateActiveFrames(kind, seed0 + i, faces);
      const encoded = await Promise.all(s.frames.map(async (f) => ({ bytes: await encodeJpeg(f.image, 85), t: f.t })));
      const t0 = performance.now();
      const samples = await analyzeRecording(engine, encoded);
      const r = active3dLiveness({ challenge: s.challenge, samples });
      times.push(performance.now() - t0);
      rows.push({ kind, r });
    }
  } finally {
    await engine.close();
  }
  times.sort((a, b) => a - b);
  report(`ACTIVE_3D end to end: ${ne} rendered 640×480 recordings per kind through the face engine (analysis + validation p50 ${times[times.length >> 1]!.toFixed(0)} ms per recording of ~50 frames)`, rows);
}
