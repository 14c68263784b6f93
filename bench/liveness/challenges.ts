/**
 * FLASHING and ACTIVE_3D on synthetic answers: BPCER of genuine answers and APCER per attack kind.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/challenges.ts [--flashing 10] [--flashing-engine]
 *       [--active 30] [--e2e 2] [--e2e-kinds bona_fide,flat_photo] [--save DIR | --load DIR] [--why]
 *
 * FLASHING: rendered recordings (320×240, 15 fps) of genuine and attack answers; the colour signals
 * on the generator's face box, or with --flashing-engine everything the verifier runs (the face
 * engine on the still and three frames, the still's single-frame signals, same_face).
 * ACTIVE_3D: landmark/pose/embedding tracks as the face engine reports them (geometric, fast), and
 * with --e2e N, N rendered 640×480 recordings per kind (5 fps, JPEG 0.85, as the capture page sends
 * them) analysed by the real face engine (slow). --save DIR keeps the engine's analyses (one JSON per
 * recording) and --load DIR re-validates them without rendering or the engine. Every refused genuine
 * answer and every accepted attack is explained: the failing step, and per step the turn measured
 * (engine yaw / pitch, landmark pitch) against the degrees asked and the turn actually performed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Active3dChallenge } from '../../src/liveness/challenge.ts';
import sharp from 'sharp';
import type { FaceEngine } from '../../src/face/index.ts';
import type { FlashingChallenge } from '../../src/liveness/challenge.ts';
import { decodeFrames } from '../../src/liveness/index.ts';
import { active3dLiveness, analyzeRecording, flashingLiveness, type FlashingInput } from '../../src/liveness/methods.ts';
import { decodeRgb, encodeJpeg } from '../../src/liveness/image.ts';
import { measureTrack, type PoseSample } from '../../src/liveness/signals/active.ts';
import { ACTIVE_KINDS, generateActiveFrames, generateActiveTrack, type ActiveKind } from '../../test/synthetic/active.ts';
import { FLASH_KINDS, generateFlashingSample } from '../../test/synthetic/flashing.ts';
import { loadFaceSources } from '../../test/synthetic/head.ts';
import type { Frame, LivenessResult } from '../../src/liveness/types.ts';

const { values } = parseArgs({
  options: {
    flashing: { type: 'string', default: '10' }, 'flashing-engine': { type: 'boolean', default: false }, active: { type: 'string', default: '30' }, e2e: { type: 'string', default: '0' }, seed0: { type: 'string', default: '1001' },
    'e2e-kinds': { type: 'string', default: ACTIVE_KINDS.join(',') }, save: { type: 'string' }, load: { type: 'string' }, why: { type: 'boolean', default: true },
  },
});
const faces = await loadFaceSources();
const why: string[] = [];
function flushWhy(): void {
  if (why.length) console.log(`explained (refused genuine, accepted attacks):\n${why.join('\n')}\n`);
  why.length = 0;
}
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
  const engine = values['flashing-engine'] ? await (await import('../../src/face/index.ts')).createFaceEngine() : null;
  const noFace: Record<string, number> = {};
  try {
    for (const kind of FLASH_KINDS) for (let i = 0; i < nf; i++) {
      const s = await generateFlashingSample(kind, seed0 + i, faces);
      if (!engine) {
        const t0 = performance.now();
        rows.push({ kind, r: flashingLiveness({ challenge: s.challenge, frames: s.frames, face: s.face }) });
        ms.push(performance.now() - t0);
        continue;
      }
      const input = await asVerifierSees(engine, s.challenge, s.frames);
      if (!input) { noFace[kind] = (noFace[kind] ?? 0) + 1; continue; }
      const t0 = performance.now();
      rows.push({ kind, r: flashingLiveness(input) });
      ms.push(performance.now() - t0);
    }
  } finally {
    await engine?.close();
  }
  ms.sort((a, b) => a - b);
  const view = engine
    ? `as the verifier judges them (face engine on the still and on 3 frames; still's single-frame signals and same_face); refused by the engine before liveness, left out: ${JSON.stringify(noFace)}`
    : 'colour signals only, generator face box (no still)';
  report(`FLASHING: ${nf} rendered recordings per kind (seeds ${seed0}..${seed0 + nf - 1}), ${view}; validation p50 ${ms[ms.length >> 1]!.toFixed(0)} ms per recording (${'~50'} frames)`, rows);
}

/**
 * What the verifier's FLASHING step gives the signals (src/verifier/steps/liveness/flashing.ts): the
 * page's 640 px still from the lead-in (JPEG 0.9) analysed with the quality gate, as the face match
 * does; the frames as the page sends them (JPEG 0.85); the face engine on the middle, last-of-lead-in
 * and last frames. Null when the engine refuses the still or finds no face in those frames.
 */
async function asVerifierSees(engine: FaceEngine, challenge: FlashingChallenge, rendered: readonly Frame[]): Promise<FlashingInput | null> {
  const lead = rendered[Math.max(0, rendered.findIndex((f) => f.t > 300))]!.image;
  const stillJpeg = await sharp(lead.data, { raw: { width: lead.width, height: lead.height, channels: 3 } }).resize(640).jpeg({ quality: 90 }).toBuffer();
  const jpegs = await Promise.all(rendered.map((f) => encodeJpeg(f.image, 85)));
  const frames = await decodeFrames(jpegs.map((bytes, k) => ({ bytes, t: rendered[k]!.t })));
  let still;
  try { still = await engine.analyze(stillJpeg); } catch { return null; }
  const leadIdx = Math.max(0, rendered.findLastIndex((f) => f.t < challenge.leadInMs));
  const found = [];
  for (const k of [Math.floor(rendered.length / 2), leadIdx, rendered.length - 1]) {
    try { found.push(await engine.analyze(jpegs[k]!, { qualityGate: false, minFaceSize: 40 })); } catch { /* no face in this frame */ }
  }
  if (!found.length) return null;
  return {
    challenge, frames,
    face: { box: found[0]!.face.box, landmarks: found[0]!.face.landmarks },
    still: await decodeRgb(stillJpeg), stillFace: { box: still.face.box, landmarks: still.face.landmarks },
    embeddings: found.map((a) => a.embedding), reference: still.embedding,
  };
}

const na = Number(values.active);
if (na > 0) {
  const rows: Array<{ kind: string; r: LivenessResult }> = [];
  for (const kind of ACTIVE_KINDS) for (let i = 0; i < na; i++) {
    const s = generateActiveTrack(kind, seed0 + i, faces);
    const r = active3dLiveness({ challenge: s.challenge, samples: s.samples });
    rows.push({ kind, r });
    if (values.why && r.live === (kind !== 'bona_fide')) why.push(explain(kind, seed0 + i, s.challenge, s.samples, r));
  }
  report(`ACTIVE_3D: ${na} engine-like landmark tracks per kind (seeds ${seed0}..${seed0 + na - 1})`, rows);
  flushWhy();
}

const ne = Number(values.e2e);
if (ne > 0) {
  const kinds = values['e2e-kinds']!.split(',').filter(Boolean) as ActiveKind[];
  for (const k of kinds) if (!ACTIVE_KINDS.includes(k)) throw new Error(`unknown kind ${k}`);
  const engine = values.load ? null : await (await import('../../src/face/index.ts')).createFaceEngine();
  const rows: Array<{ kind: string; r: LivenessResult }> = [];
  const times: number[] = [];
  try {
    for (const kind of kinds) for (let i = 0; i < ne; i++) {
      const seed = seed0 + i;
      let rec: SavedRecording;
      if (values.load) rec = JSON.parse(fs.readFileSync(path.join(values.load, `${kind}-${seed}.json`), 'utf8')) as SavedRecording;
      else {
        const s = await generateActiveFrames(kind, seed, faces);
        const encoded = await Promise.all(s.frames.map(async (f) => ({ bytes: await encodeJpeg(f.image, 85), t: f.t })));
        const t0 = performance.now();
        const samples = await analyzeRecording(engine!, encoded, { concurrency: 2 });
        times.push(performance.now() - t0);
        rec = { kind, seed, challenge: s.challenge, performed: s.performed, samples: samples.map((x) => ({ t: x.t, face: x.face && { landmarks: x.face.landmarks, pose: x.face.pose, embedding: x.face.embedding ? Array.from(x.face.embedding) : null } })) };
        if (values.save) { fs.mkdirSync(values.save, { recursive: true }); fs.writeFileSync(path.join(values.save, `${kind}-${seed}.json`), JSON.stringify(rec)); }
      }
      const t1 = performance.now();
      const r = active3dLiveness({ challenge: rec.challenge, samples: rec.samples });
      if (!values.load) times[times.length - 1]! += performance.now() - t1;
      rows.push({ kind, r });
      if (values.why && r.live === (kind !== 'bona_fide')) why.push(explain(kind, seed, rec.challenge, rec.samples, r, rec.performed));
    }
  } finally {
    await engine?.close();
  }
  times.sort((a, b) => a - b);
  const cost = times.length ? `analysis + validation p50 ${times[times.length >> 1]!.toFixed(0)} ms per recording of ~50 frames` : `engine analyses loaded from ${values.load}`;
  report(`ACTIVE_3D end to end: ${ne} rendered 640×480 recordings per kind (seeds ${seed0}..${seed0 + ne - 1}, 5 fps, JPEG 0.85) through the face engine (${cost})`, rows);
  flushWhy();
}

interface SavedRecording {
  kind: ActiveKind;
  seed: number;
  challenge: Active3dChallenge;
  performed?: Array<{ t: number; yaw: number; pitch: number }>;
  samples: PoseSample[];
}

/** Why a genuine answer was refused or an attack accepted: the failing step, and per step the turn measured vs asked (vs performed). */
function explain(kind: string, seed: number, ch: Active3dChallenge, samples: readonly PoseSample[], r: LivenessResult, performed?: SavedRecording['performed']): string {
  const lines: string[] = [];
  const sig = (name: string) => r.signals.find((x) => x.signal === name);
  const fails = r.warnings.filter((w) => w.risk !== 'LIVENESS_FACE_ATTACK' && w.risk !== 'LOW_LIVENESS_SCORE').map((w) => `${w.risk} ${JSON.stringify(w.additional_data ?? {})}`);
  lines.push(`  ${kind} seed ${seed}: score ${r.score.toFixed(1)} ${r.live ? 'ACCEPTED' : 'refused'}; ${fails.join('; ') || 'no warning'}; parallax ${JSON.stringify(sig('parallax_3d')?.details ?? {})}`);
  const seen = samples.filter((s) => s.face && s.t >= 0) as Array<PoseSample & { face: NonNullable<PoseSample['face']> }>;
  if (seen.length < 2) return lines.join('\n');
  const tr = measureTrack(ch, seen);
  const pts = [...tr.at.values()];
  lines.push(`    lead-in pose yaw ${tr.by.toFixed(1)} pitch ${tr.bp.toFixed(1)}; face in ${seen.length}/${samples.length} frames`);
  for (const [i, st] of ch.steps.entries()) {
    const t1 = st.atMs + ch.stepTimeoutMs;
    const win = pts.filter((p) => p.t >= st.atMs - 150 && p.t <= t1 + 600);
    const axisYaw = st.direction === 'left' || st.direction === 'right';
    const sign = st.direction === 'left' || st.direction === 'up' ? 1 : -1;
    const fmt = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(0);
    const measure = (p: (typeof pts)[number]) => (axisYaw ? p.dy : p.dp) * sign;
    const best = win.reduce((b, p) => (measure(p) > measure(b) ? p : b), win[0] ?? pts[0]!);
    const perf = performed?.filter((q) => q.t >= st.atMs - 150 && q.t <= t1 + 600).map((q) => (axisYaw ? q.yaw : q.pitch) * sign);
    const track = win.map((p) => `${p.t}:${axisYaw ? fmt(p.dy) : `${fmt(p.dpPose)}/${fmt(p.dpLm)}`}${p.state === 'centre' ? '' : p.state[0]}`).join(' ');
    lines.push(`    step ${i + 1} ${st.direction.padEnd(5)} asked ${st.degrees}° at ${st.atMs} ms (limit ${t1}): best ${axisYaw ? 'yaw' : 'pitch'} ${fmt(measure(best))}° at ${best.t}${perf?.length ? `, performed peak ${fmt(Math.max(...perf))}°` : ''}`);
    lines.push(`      ${axisYaw ? 't:yaw' : 't:pitch(pose/landmarks)'} ${track}`);
  }
  return lines.join('\n');
}
