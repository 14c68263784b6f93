/**
 * Chance acceptance of a recording that does not respond to the screen light (docs/liveness.md,
 * "Chance acceptance of a recording"). A pre-recorded video cannot depend on the pattern the server
 * draws after it was made: its face brightness is fixed, the issued pattern is random. So: fix a
 * brightness series, draw many issued patterns, count how often screen_light gives the credit a
 * session needs to escape a decline (score > 0.3: every other signal at 1 and the score above the
 * decline threshold 30) or to be approved on its own (> 0.4: above the review threshold 40).
 *
 * Series (which figure is which):
 *  - rendered/modelled: white noise, smooth drift with steps, and the worst case, the exact response
 *    to one issuable pattern (what a genuine recording made for another challenge looks like);
 *  - real: the face's brightness in ../shared/clips-real (a live person with no screen light, and a
 *    phone replay of them), every 80 ms window of each clip (needs ffmpeg; skipped without it).
 * The design before issue 12 (12 frames, runs of 2–4, margin over 24 alternatives) is kept here,
 * compactly, to measure it on the same series.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/screen-light-chance.ts [--draws 100000] [--real-draws 1000] [--clips ../shared/clips-real]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeRgb, scaleBox } from '../../src/liveness/image.ts';
import { int, normal, seededRng, type Rng } from '../../src/liveness/rng.ts';
import { faceRegistration } from '../../src/liveness/signals/light-shading.ts';
import { CHALLENGES_PER_SESSION, faceBrightness, laggedPattern, randomScreenPattern, SCREEN_LIGHT_SIGNAL, SCREEN_PATTERN, screenLightFromSeries, screenLightMaxRank, screenPatternSet } from '../../src/liveness/signals/screen-light.ts';
import { createFaceEngine } from '../../src/face/index.ts';
import type { Frame } from '../../src/liveness/types.ts';

const { values } = parseArgs({
  options: {
    draws: { type: 'string', default: '100000' },
    'real-draws': { type: 'string', default: '1000' },
    clips: { type: 'string', default: '../shared/clips-real' },
  },
});
const DRAWS = Number(values.draws), REAL_DRAWS = Number(values['real-draws']);

// ---- the design before issue 12 (src/liveness/signals/screen-light.ts at 412c795), for the record ----
const OLD = { n: 12, shuffles: 24, maxNullCorr: 0.5, marginNone: 0, marginFollows: 0.15 };
function oldPattern(rng: Rng, n = 12): number[] {
  for (;;) {
    const p: number[] = [];
    let v = int(rng, 0, 1);
    while (p.length < n) { const len = int(rng, 2, 4); for (let k = 0; k < len && p.length < n; k++) p.push(v); v = 1 - v; }
    if (p[n - 1] !== p[n - 2]) p[n - 1] = p[n - 2]!;
    let changes = 0;
    for (let i = 1; i < n; i++) if (p[i] !== p[i - 1]) changes++;
    const on = p.reduce((a, b) => a + b, 0);
    if (changes >= 3 && on >= 4 && n - on >= 4) return p;
  }
}
function detrend(v: readonly number[]): number[] {
  const n = v.length, mj = (n - 1) / 2, t = v.map((_, j) => j - mj), c2 = t.reduce((a, x) => a + x * x, 0) / n, q = t.map((x) => x * x - c2);
  const mv = v.reduce((a, b) => a + b, 0) / n;
  const proj = (b: readonly number[]) => { let num = 0, den = 0; for (let j = 0; j < n; j++) { num += b[j]! * (v[j]! - mv); den += b[j]! * b[j]!; } return den > 0 ? num / den : 0; };
  const a1 = proj(t), a2 = proj(q);
  return v.map((x, j) => x - mv - a1 * t[j]! - a2 * q[j]!);
}
function fit(p: readonly number[], ry: readonly number[]): { r2: number; gain: number; lag: number } {
  let best = { r2: 0, gain: 0, lag: 0 };
  const syy = ry.reduce((a, b) => a + b * b, 0);
  for (const lag of SCREEN_LIGHT_SIGNAL.lags) {
    const rx = detrend(laggedPattern(p, lag));
    let sxy = 0, sxx = 0;
    for (let j = 0; j < rx.length; j++) { sxy += rx[j]! * ry[j]!; sxx += rx[j]! * rx[j]!; }
    if (sxx < 1e-6 || syy <= 0) continue;
    const r2 = sxy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
    if (r2 > best.r2) best = { r2, gain: sxy / sxx, lag };
  }
  return best;
}
function corr(a: readonly number[], b: readonly number[]): number {
  const n = a.length, ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i]! - ma) * (b[i]! - mb); saa += (a[i]! - ma) ** 2; sbb += (b[i]! - mb) ** 2; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
const ramp = (v: number, lo: number, hi: number) => Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
function oldScore(y: readonly number[], pat: readonly number[]): number {
  const n = pat.length, ry = detrend(y), best = fit(pat, ry);
  const rng = seededRng(n * 7919 + pat.reduce((a, v, i) => a + v * (1 << i), 0));
  const shifts = [-2, -1, 0, 1, 2].map((s) => pat.map((_, j) => { const k = j - s; return k < 0 ? 1 : pat[Math.min(n - 1, k)]!; }));
  let nullBest = 0, used = 0;
  for (let tries = 0; used < OLD.shuffles && tries < 2000; tries++) {
    const alt = oldPattern(rng, n);
    if (shifts.some((s) => Math.abs(corr(s, alt)) > OLD.maxNullCorr)) continue;
    used++;
    nullBest = Math.max(nullBest, fit(alt, ry).r2);
  }
  const brightness = y.reduce((a, b) => a + b, 0) / n, level = laggedPattern(pat, best.lag);
  const lit = ry.filter((_, j) => level[j]! >= 0.9), dark = ry.filter((_, j) => level[j]! <= 0.1);
  const contrast = lit.length && dark.length ? lit.reduce((a, b) => a + b, 0) / lit.length - dark.reduce((a, b) => a + b, 0) / dark.length : best.gain;
  const amplitude = Math.min(best.gain, contrast / 0.95) / Math.max(1, brightness);
  return 0.03 + 0.97 * ramp(best.r2, 0.4, 0.7) * ramp(best.r2 - nullBest, OLD.marginNone, OLD.marginFollows) * ramp(amplitude, 0.012, 0.025);
}

// ---- the pattern sets ----
const NEW = screenPatternSet();
const oldDist = new Map<string, number>();
{
  const rng = seededRng(12);
  for (let i = 0; i < 1_000_000; i++) { const k = oldPattern(rng).join(''); oldDist.set(k, (oldDist.get(k) ?? 0) + 1); }
}
const oldMax = Math.max(...oldDist.values()) / 1_000_000;
const maxRank = screenLightMaxRank(NEW.list.length);
console.log('pattern sets');
console.log(`  before: 12 frames, ${oldDist.size} distinct patterns (1,000,000 draws of the old generator), the most likely drawn ${(100 * oldMax).toFixed(2)} % of the time`);
console.log(`  now:    ${SCREEN_PATTERN.frames} frames (${SCREEN_PATTERN.frames - SCREEN_PATTERN.restFrames} free, ${SCREEN_PATTERN.restFrames} white), ${NEW.list.length} issuable patterns, uniform; credit only at rank <= ${maxRank}: bound ${maxRank}/${NEW.list.length} = ${(maxRank / NEW.list.length).toExponential(2)} per challenge, <= ${CHALLENGES_PER_SESSION} challenges a session: ${(CHALLENGES_PER_SESSION * maxRank / NEW.list.length).toExponential(2)} per session`);

// ---- brightness series (face mean luminance per frame, grey levels) ----
const BRIGHT = 120;
function noise(seed: number, n: number, sd: number): number[] { const r = seededRng(seed); return Array.from({ length: n }, () => BRIGHT + sd * normal(r)); }
function driftSteps(seed: number, n: number): number[] {
  const r = seededRng(seed), a = 6 * normal(r), b = 4 * normal(r), steps = [int(r, 2, n - 3), int(r, 2, n - 3)], h = [4 * normal(r), 4 * normal(r)];
  return Array.from({ length: n }, (_, j) => BRIGHT + a * (j / n) + b * (j / n) ** 2 + (j >= steps[0]! ? h[0]! : 0) + (j >= steps[1]! ? h[1]! : 0) + 0.8 * normal(r));
}
/** The response a face lit by `p` would give (5 % of its brightness, lag 1 frame, a little noise): a recording made for another challenge. */
function responseTo(p: readonly number[], seed: number): number[] { const r = seededRng(seed); return laggedPattern(p, 1).map((v) => BRIGHT * (1 + 0.05 * v) + 0.3 * normal(r)); }

interface Tally { n: number; review: number; approve: number }
function tally(scores: Iterable<number>): Tally { const t = { n: 0, review: 0, approve: 0 }; for (const s of scores) { t.n++; if (s > 0.3) t.review++; if (s > 0.4) t.approve++; } return t; }
const fmt = (t: Tally) => `${t.review}/${t.n} (${(t.review / t.n).toExponential(2)}) could reach review, ${t.approve}/${t.n} (${(t.approve / t.n).toExponential(2)}) approval`;
function* drawsNew(y: readonly number[], draws: number, seed: number) { const r = seededRng(seed); for (let i = 0; i < draws; i++) yield screenLightFromSeries(y, randomScreenPattern(r)).score; }
function* drawsOld(y: readonly number[], draws: number, seed: number) { const r = seededRng(seed); for (let i = 0; i < draws; i++) yield oldScore(y, oldPattern(r)); }

console.log(`\nMonte Carlo: ${DRAWS} issued patterns per series, the series fixed (it cannot depend on the pattern)`);
const mostLikelyOld = [...oldDist.entries()].sort((a, b) => b[1] - a[1])[0]![0].split('').map(Number);
const someNew = randomScreenPattern(seededRng(99));
const series: Array<[string, number[], number[]]> = [
  ['white noise, 3 % of brightness', noise(1, 12, 3.6), noise(1, SCREEN_PATTERN.frames, 3.6)],
  ['smooth drift + two steps', driftSteps(2, 12), driftSteps(2, SCREEN_PATTERN.frames)],
  ['response to one fixed pattern (worst case)', responseTo(mostLikelyOld, 3), responseTo(someNew, 3)],
];
for (const [name, y12, y16] of series) {
  const t0 = performance.now();
  console.log(`  ${name}`);
  console.log(`    before: ${fmt(tally(drawsOld(y12, DRAWS, 5)))}`);
  console.log(`    now:    ${fmt(tally(drawsNew(y16, DRAWS, 6)))}   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  // the exact figure for this series: every issuable pattern as the issued one (the draw is uniform)
  console.log(`    now, exactly (all ${NEW.list.length} patterns): ${fmt(tally(NEW.list.map((p) => screenLightFromSeries(y16, p).score)))}`);
}

// ---- real clips ----
const clipsDir = path.resolve(values.clips!);
let ffmpeg = true;
try { execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' }); } catch { ffmpeg = false; }
if (!ffmpeg || !fs.existsSync(clipsDir)) {
  console.log(`\nreal clips: skipped (${ffmpeg ? `no ${clipsDir}` : 'no ffmpeg on PATH'})`);
} else {
  console.log(`\nreal clips (${clipsDir}): the face's brightness in every window of 12 / ${SCREEN_PATTERN.frames} frames 80 ms apart, ${REAL_DRAWS} issued patterns each`);
  const engine = await createFaceEngine({ poolSize: 1 });
  try {
    for (const clip of ['live.mp4', 'replay-phone.mp4']) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-'));
      // one frame every 80 ms, the burst's size (the capture page draws the camera at 320 px)
      execFileSync('ffmpeg', ['-loglevel', 'error', '-i', path.join(clipsDir, clip), '-vf', 'fps=12.5,scale=320:-2', '-q:v', '3', path.join(dir, 'f%03d.jpg')]);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort();
      const frames: Frame[] = [];
      for (const [i, f] of files.entries()) frames.push({ image: await decodeRgb(fs.readFileSync(path.join(dir, f))), t: i * 80 });
      // the face box as the verifier finds it: the face engine on a full-size frame (the first sharp
      // enough from the middle on), scaled to the burst
      const full = path.join(dir, 'full.jpg');
      let face: { box: ReturnType<typeof scaleBox> } | null = null;
      for (let k = Math.floor(files.length / 2); k < files.length && !face; k++) {
        execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-ss', String(k * 0.08), '-i', path.join(clipsDir, clip), '-frames:v', '1', '-q:v', '2', full]);
        const bytes = fs.readFileSync(full);
        try {
          const a = await engine.analyze(bytes);
          const w = (await decodeRgb(bytes, 4096)).width;
          face = { box: scaleBox(a.face.box, frames[0]!.image.width / w) };
        } catch { /* blurred or no face in this frame: the next */ }
      }
      fs.rmSync(dir, { recursive: true, force: true });
      if (!face) { console.log(`  ${clip}: no frame the face engine accepts`); continue; }
      for (const n of [12, SCREEN_PATTERN.frames]) {
        const all: number[] = [];
        let windows = 0;
        for (let s0 = 0; s0 + n <= frames.length; s0++) {
          const burst = frames.slice(s0, s0 + n);
          const offsets = faceRegistration(burst, face, Math.floor(n / 2));
          const r = seededRng(1000 + s0), y = faceBrightness(burst, face, offsets);
          windows++;
          for (let d = 0; d < REAL_DRAWS; d++) {
            // the same registered face box for both designs
            if (n === 12) all.push(oldScore(y, oldPattern(r)));
            else all.push(screenLightFromSeries(y, randomScreenPattern(r)).score);
          }
        }
        console.log(`  ${clip.padEnd(17)} ${n === 12 ? 'before' : 'now   '} ${windows} windows: ${fmt(tally(all))}`);
      }
    }
  } finally {
    await engine.close();
  }
}

