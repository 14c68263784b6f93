/**
 * `screen_light` alone (the signal, without light_shading and light_falloff): does the screen's light, modulated by the capture page during the PASSIVE burst
 * (white / dark grey per frame in a server-chosen pattern), tell a live face from a replay?
 * Generates sessions per kind with the light (`GenerateOptions.screenLight`), one random pattern per
 * seed (the same for every kind), scores `screen_light`, picks the threshold on the calibration
 * seeds and applies it unchanged to the reported seeds.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/screen-light.ts [--calib 1-30] [--eval 1001-1010]
 *        [--gain G (fixed light; default random per session)] [--kinds bona_fide,phone_video,...]
 *        [--threshold T (instead of choosing it on the calibration seeds)]
 */
import { parseArgs } from 'node:util';
import { randomScreenPattern, screenLightSignal, type ScreenLightResult } from '../../src/liveness/signals/screen-light.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { ATTACK_TYPES, generatePassiveSample, type SampleKind } from '../../test/synthetic/generate.ts';
import { loadFaceSources } from '../../test/synthetic/head.ts';

const { values } = parseArgs({
  options: {
    calib: { type: 'string', default: '1-30' },
    eval: { type: 'string', default: '1001-1010' },
    gain: { type: 'string' },
    kinds: { type: 'string' },
    threshold: { type: 'string' },
  },
});

const range = (s: string): number[] => s.split(',').flatMap((p) => { const [a, b] = p.split('-').map(Number); return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i); });
const KINDS: SampleKind[] = values.kinds ? (values.kinds.split(',') as SampleKind[]) : ['bona_fide', ...ATTACK_TYPES];
const REPLAYS = ['phone_video', 'monitor_video'];
const gain = values.gain === undefined ? undefined : Number(values.gain);
const faces = await loadFaceSources();

interface Row { kind: SampleKind; seed: number; res: ScreenLightResult; g: number }

async function run(seeds: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const seed of seeds) {
    const pattern = randomScreenPattern(seededRng(seed * 31 + 17));
    for (const kind of KINDS) {
      const s = await generatePassiveSample(kind, seed, faces, { screenLight: gain === undefined ? { pattern } : { pattern, gain } });
      rows.push({ kind, seed, res: screenLightSignal(s.burst, s.burstFace, pattern), g: Number(s.meta.screenGain ?? 0) });
    }
  }
  return rows;
}

const q = (v: number[], p: number): number => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!; };
const pct = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(6);
const f3 = (v: number) => v.toFixed(3).padStart(6);

function report(title: string, rows: Row[], threshold?: number): number {
  console.log(`\n${title}`);
  console.log('kind              n   score: min    p10    p50    p90    max  | median R²  shuffled  lag  amplitude(p10 p50 p90)');
  for (const kind of KINDS) {
    const r = rows.filter((x) => x.kind === kind);
    if (!r.length) continue;
    const sc = r.map((x) => x.res.score), amp = r.map((x) => x.res.details.amplitude);
    console.log(`${kind.padEnd(16)} ${String(r.length).padStart(3)}       ${[0, 0.1, 0.5, 0.9, 1].map((p) => f3(q(sc, p))).join(' ')}  |  ${f3(q(r.map((x) => x.res.details.r2), 0.5))}    ${f3(q(r.map((x) => x.res.details.shuffledR2), 0.5))}  ${q(r.map((x) => x.res.details.lag), 0.5).toFixed(1)}  ${[0.1, 0.5, 0.9].map((p) => q(amp, p).toFixed(4)).join(' ')}`);
  }
  const err = (t: number) => {
    const bpcer = rows.filter((x) => x.kind === 'bona_fide').filter((x) => x.res.score <= t).length / Math.max(1, rows.filter((x) => x.kind === 'bona_fide').length);
    const apcer: Record<string, number> = {};
    for (const k of KINDS) if (k !== 'bona_fide') { const a = rows.filter((x) => x.kind === k); apcer[k] = a.filter((x) => x.res.score > t).length / Math.max(1, a.length); }
    return { bpcer, apcer, replayMax: Math.max(...REPLAYS.filter((k) => k in apcer).map((k) => apcer[k]!)) };
  };
  let t = threshold;
  if (t === undefined) {
    // the threshold that minimises max(BPCER, APCER of video replays); ties: the middle of the best interval
    const cands = [...new Set(rows.map((x) => x.res.score))].sort((a, b) => a - b);
    const cost = (v: number) => { const e = err(v); return Math.max(e.bpcer, e.replayMax) + 1e-3 * (e.bpcer + e.replayMax); };
    const best = Math.min(...cands.map(cost));
    const ok = cands.filter((c) => cost(c) === best);
    t = (ok[0]! + ok[ok.length - 1]!) / 2;
  }
  const e = err(t);
  console.log(`threshold ${t.toFixed(3)} (live if score > t)${threshold === undefined ? ', chosen here' : ', given'}: BPCER ${pct(e.bpcer)}  APCER ${Object.entries(e.apcer).map(([k, v]) => `${k} ${pct(v)}`).join('  ')}`);
  const byGain = (lo: number, hi: number) => rows.filter((x) => x.g >= lo && x.g < hi);
  if (gain === undefined) for (const [lo, hi] of [[0, 0.08], [0.08, 0.14], [0.14, 1]] as const) {
    const r = byGain(lo, hi), bf = r.filter((x) => x.kind === 'bona_fide'), rp = r.filter((x) => REPLAYS.includes(x.kind));
    console.log(`  light gain ${lo.toFixed(2)}–${hi.toFixed(2)}: bona fide refused ${bf.filter((x) => x.res.score <= t).length}/${bf.length}, video replays accepted ${rp.filter((x) => x.res.score > t).length}/${rp.length}`);
  }
  return t;
}

const t0 = Date.now();
const cal = await run(range(values.calib!));
const t = report(`calibration seeds ${values.calib} (${gain === undefined ? 'light gain random 0.0375–0.2 per session' : `light gain ${gain}`})`, cal, values.threshold === undefined ? undefined : Number(values.threshold));
const ev = await run(range(values.eval!));
report(`reported seeds ${values.eval}, threshold not re-tuned`, ev, t);
console.log(`\n${((Date.now() - t0) / 1000).toFixed(0)} s`);
