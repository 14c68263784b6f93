/**
 * Chance acceptance of a FLASHING recording that does not follow the issued colour sequence
 * (docs/liveness.md, "Chance acceptance of a recording"). A recording made beforehand cannot depend
 * on the sequence the server draws: fix the face's colour per frame, draw many challenges, count how
 * often flash_response gives any credit at all (score > 0.03), and how often the design before
 * (margin over 24 random re-orderings on a coarser lag grid, kept here compactly) did, and scored
 * above 0.3.
 *
 * The colour series are modelled, not recorded: white noise, and a slow drift with steps (a
 * replayed video's own brightness changes), 15 fps over the whole sequence.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/flash-chance.ts [--draws 10000]
 */
import { parseArgs } from 'node:util';
import { createChallenge, flashColourAt, FLASH_MIN_ORDERS, flashOrders, type FlashingChallenge } from '../../src/liveness/challenge.ts';
import { int, normal, seededRng, shuffle } from '../../src/liveness/rng.ts';
import { FLASH, flashResponse, type FaceColour } from '../../src/liveness/signals/flash.ts';

const { values } = parseArgs({ options: { draws: { type: 'string', default: '10000' } } });
const DRAWS = Number(values.draws);

// ---- the design before (signals/flash.ts at 2de1513): R² margin over 24 random re-orderings, every third lag ----
const ramp = (v: number, lo: number, hi: number) => Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
function nearEdge(ch: FlashingChallenge, t: number): boolean {
  let edge = ch.leadInMs;
  if (Math.abs(t - edge) < FLASH.edgeGuardMs) return true;
  for (const s of ch.steps) { edge += s.ms; if (Math.abs(t - edge) < FLASH.edgeGuardMs) return true; }
  return false;
}
function oldFit(ch: FlashingChallenge, cols: readonly FaceColour[], lags: readonly number[]): { r2: number; lag: number; gain: number[] } {
  let best = { r2: -Infinity, lag: 0, gain: [0, 0, 0] };
  for (const lag of lags) {
    const use = cols.filter((c) => !nearEdge(ch, c.t - lag) && c.t - lag >= 0);
    if (use.length < 8) continue;
    let ssr = 0, sst = 0;
    const gain = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const xs = use.map((c) => flashColourAt(ch, c.t - lag)[k]!), ys = use.map((c) => c.rgb[k]!);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < xs.length; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; syy += (ys[i]! - my) ** 2; }
      gain[k] = sxx > 0 ? sxy / sxx : 0;
      sst += syy; ssr += syy - (sxx > 0 ? (sxy * sxy) / sxx : 0);
    }
    const r2 = sst > 0 ? 1 - ssr / sst : 0;
    const r2pos = gain.every((g) => g > 0) ? r2 : Math.min(r2, 0);
    if (r2pos > best.r2) best = { r2: r2pos, lag, gain };
  }
  return best;
}
function oldScore(ch: FlashingChallenge, cols: readonly FaceColour[]): number {
  const lags: number[] = [];
  for (let l = -30; l <= ch.maxLagMs + FLASH.extraLagMs; l += FLASH.lagStepMs) lags.push(l);
  const fit = oldFit(ch, cols, lags);
  const rng = seededRng(cols.length * 7 + Math.round(cols[0]!.t));
  let nullBest = 0;
  for (let i = 0; i < 24; i++) {
    const perm = shuffle(rng, ch.steps);
    const alt: FlashingChallenge = { ...ch, steps: perm.map((s, k) => ({ ...s, ms: ch.steps[k]!.ms })) };
    if (alt.steps.every((s, k) => s.colour === ch.steps[k]!.colour)) continue;
    nullBest = Math.max(nullBest, oldFit(alt, cols, lags.filter((_, k) => k % 3 === 0)).r2);
  }
  const brightness = cols.reduce((s, c) => s + (c.rgb[0] + c.rgb[1] + c.rgb[2]) / 3, 0) / cols.length;
  const amplitude = (fit.gain[0]! + fit.gain[1]! + fit.gain[2]!) / 3 / Math.max(1, brightness);
  const follows = ramp(fit.r2, 0.3, 0.7) * ramp(fit.r2 - nullBest, 0.02, 0.1) * ramp(amplitude, 0.05, 0.1);
  return fit.lag > ch.maxLagMs ? Math.min(0.05, follows) : 0.03 + 0.97 * follows;
}

// ---- modelled recordings: 15 fps over the longest sequence + lag window ----
const SPAN = 600 + 7 * 500 + 350 + 800;
function series(kind: 'noise' | 'drift', seed: number): FaceColour[] {
  const r = seededRng(seed), out: FaceColour[] = [];
  const steps = [int(r, 500, SPAN - 500), int(r, 500, SPAN - 500)], h = [6 * normal(r), 6 * normal(r)], slope = 8 * normal(r);
  for (let t = 0; t <= SPAN; t += 1000 / 15) {
    const base = kind === 'noise' ? 120 : 120 + slope * (t / SPAN) + (t >= steps[0]! ? h[0]! : 0) + (t >= steps[1]! ? h[1]! : 0);
    const sd = kind === 'noise' ? 4 : 0.8;
    out.push({ t: Math.round(t), rgb: [base + sd * normal(r), base * 0.9 + sd * normal(r), base * 0.8 + sd * normal(r)] });
  }
  return out;
}

const orderCounts: number[] = [];
{
  const r = seededRng(3);
  for (let i = 0; i < 2000; i++) orderCounts.push(flashOrders(createChallenge('FLASHING', r).steps.map((s) => s.colour)).length);
  orderCounts.sort((a, b) => a - b);
  console.log(`colour sets issued now: valid orders per set min ${orderCounts[0]} median ${orderCounts[1000]} max ${orderCounts.at(-1)} (minimum ${FLASH_MIN_ORDERS}); credit only at rank <= floor(${FLASH.chance} * orders), so a bound <= ${FLASH.chance} per challenge`);
}
console.log(`\nMonte Carlo: ${DRAWS} issued challenges per series (modelled series), credit = flash_response score > 0.03`);
for (const kind of ['noise', 'drift'] as const) {
  const y = series(kind, kind === 'noise' ? 1 : 2);
  const r = seededRng(kind === 'noise' ? 11 : 12);
  let now = 0, before = 0, beforeAny = 0;
  const t0 = performance.now();
  for (let d = 0; d < DRAWS; d++) {
    const ch = createChallenge('FLASHING', r);
    if (flashResponse(ch, y).response.score > 0.03) now++;
    // (the colour sets are today's for both: the old generator differed only in also issuing the
    // sets with fewer than FLASH_MIN_ORDERS orders, those with a colour three times or more)
    const old = oldScore(ch, y);
    if (old > 0.03) beforeAny++;
    if (old > 0.3) before++;
  }
  console.log(`  ${kind.padEnd(6)} now: ${now}/${DRAWS} (${(now / DRAWS).toExponential(2)}) any credit; before: ${beforeAny}/${DRAWS} (${(beforeAny / DRAWS).toExponential(2)}) any credit, ${before}/${DRAWS} above 0.3   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
