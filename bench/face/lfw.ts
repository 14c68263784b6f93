/**
 * Accuracy on ../shared/faces-lfw (5,828 grey 250×250 LFW crops, see its SOURCES.md), side by side:
 * the current model (ArcFace-class, onnxruntime) and the previous one (face-api's dlib ResNet), both on
 * the same detection and landmarks (one engine pass per image with `legacyEmbedding`).
 *
 * Pairs: the 2,061 same-person pairs of pairs.tsv, its 2,443 different-person pairs, plus 2,200
 * different-person pairs per fold drawn with a fixed seed among the people of that fold (LFW View-2
 * folds do not share people): 24,443 different-person pairs. Thresholds are chosen on folds 1–5 ("dev")
 * and reported on folds 6–10 ("test"); the table for all folds is printed too.
 *
 *   PATH=node_modules/.bin:$PATH nice -n 10 node bench/face/lfw.ts [--fresh]
 *
 * The per-image analyses are cached in the OS temp folder (never in the repository: LFW embeddings are
 * biometric data of real people); --fresh re-analyses.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_MAX_BYTES, createFaceEngine, DEFAULT_THRESHOLDS, isFaceError, LEGACY_MODEL, LEGACY_THRESHOLDS, MODEL, similarityFromCosine } from '../../src/face/index.ts';
import { QUALITY_LIMITS } from '../../src/face/quality.ts';
import { REPO_ROOT } from './common.ts';

const LFW = path.resolve(REPO_ROOT, '..', 'shared', 'faces-lfw');
const CACHE = path.join(os.tmpdir(), `selfie-idp-lfw-${MODEL.id}-${MODEL.version}.json`);
const EXTRA_PER_FOLD = 2200;

type Rec = { err?: string; e?: string; l?: string; q?: string[] };

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const personOf = (img: string): string => img.split('/')[1]!;
const rows = fs.readFileSync(path.join(LFW, 'pairs.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const [fold, same, a, b] = l.split('\t');
  return { fold: Number(fold), same: same === '1', a: a!, b: b! };
});
const images = fs.readdirSync(path.join(LFW, 'images')).flatMap((p) => fs.readdirSync(path.join(LFW, 'images', p)).map((f) => `images/${p}/${f}`)).sort();

// ---- analysis pass (cached) ----
let cache: Record<string, Rec> = {};
if (!process.argv.includes('--fresh') && fs.existsSync(CACHE)) cache = JSON.parse(fs.readFileSync(CACHE, 'utf8')) as Record<string, Rec>;
const todo = images.filter((f) => !cache[f]);
if (todo.length) {
  const engine = await createFaceEngine({ queueLimit: 100_000 });
  const t0 = performance.now();
  let done = 0;
  const inflight = engine.stats().size * 2;
  let next = 0;
  const lim = QUALITY_LIMITS;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < todo.length) {
      const f = todo[next++]!;
      try {
        const a = await engine.analyze(fs.readFileSync(path.join(LFW, f)), { maxBytes: CLI_MAX_BYTES, qualityGate: false, legacyEmbedding: true });
        const q = a.face.quality, p = a.face.pose;
        // Every rule on its own (not just the first that fails), to count what each one refuses.
        const rules: string[] = [];
        if (q.brightness < lim.minBrightness || q.brightness > lim.maxBrightness) rules.push('brightness');
        if (q.contrast < lim.minContrast) rules.push('contrast');
        if (q.sharpness < lim.minSharpness) rules.push('sharpness');
        if (Math.abs(p.yaw) > lim.maxYaw || Math.abs(p.pitch) > lim.maxPitch) rules.push('pose');
        cache[f] = {
          e: Buffer.from(a.embedding.buffer, a.embedding.byteOffset, a.embedding.byteLength).toString('base64'),
          l: Buffer.from(a.legacy!.embedding.buffer, a.legacy!.embedding.byteOffset, a.legacy!.embedding.byteLength).toString('base64'),
          ...(rules.length ? { q: rules } : {}),
        };
      } catch (e) {
        cache[f] = { err: isFaceError(e) ? e.code : String(e) };
      }
      if (++done % 500 === 0) process.stderr.write(`  analysed ${done}/${todo.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  }));
  await engine.close();
  fs.writeFileSync(CACHE, JSON.stringify(cache));
  console.log(`analysed ${todo.length} images in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const vec = (b64: string | undefined): Float32Array | undefined => {
  if (!b64) return undefined;
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};

// ---- face counts and quality rules ----
const errs = new Map<string, number>();
const rules = new Map<string, number>();
let refusedAny = 0;
for (const f of images) {
  const r = cache[f]!;
  if (r.err) errs.set(r.err, (errs.get(r.err) ?? 0) + 1);
  if (r.q) { refusedAny++; for (const q of r.q) rules.set(q, (rules.get(q) ?? 0) + 1); }
}
const noFace = [...errs.values()].reduce((a, b) => a + b, 0);
const pct = (n: number, d: number): string => `${((100 * n) / d).toFixed(2)}%`;
console.log(`faces-lfw: ${images.length} images; without a usable face: ${noFace} (${pct(noFace, images.length)}) ${JSON.stringify(Object.fromEntries(errs))}`);
console.log(`quality gate (each rule on its own): ${JSON.stringify(Object.fromEntries(rules))}; refused by any rule: ${refusedAny} (${pct(refusedAny, images.length)})`);

// ---- pairs ----
const foldOf = new Map<string, number>();
for (const r of rows) for (const x of [r.a, r.b]) if (!foldOf.has(personOf(x))) foldOf.set(personOf(x), r.fold);
const rnd = mulberry32(11);
const pairs: Array<{ fold: number; same: boolean; a: string; b: string }> = [...rows];
for (let fold = 1; fold <= 10; fold++) {
  const pool = images.filter((f) => foldOf.get(personOf(f)) === fold);
  let made = 0;
  const seen = new Set<string>();
  while (made < EXTRA_PER_FOLD) {
    const a = pool[Math.floor(rnd() * pool.length)]!;
    const b = pool[Math.floor(rnd() * pool.length)]!;
    if (personOf(a) === personOf(b)) continue;
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push({ fold, same: false, a, b });
    made++;
  }
}

interface Scored { same: boolean; fold: number; score: number | null; gated: boolean }
function scorePairs(model: 'current' | 'legacy'): Scored[] {
  return pairs.map((p) => {
    const ea = vec(model === 'current' ? cache[p.a]!.e : cache[p.a]!.l);
    const eb = vec(model === 'current' ? cache[p.b]!.e : cache[p.b]!.l);
    const gated = !!(cache[p.a]!.q || cache[p.b]!.q);
    if (!ea || !eb) return { same: p.same, fold: p.fold, score: null, gated };
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < ea.length; i++) { d += ea[i]! * eb[i]!; na += ea[i]! * ea[i]!; nb += eb[i]! * eb[i]!; }
    const cos = d / Math.sqrt(na * nb);
    const m = model === 'current' ? MODEL : LEGACY_MODEL;
    return { same: p.same, fold: p.fold, score: 100 * similarityFromCosine(cos, m), gated };
  });
}

/** Threshold t: match = score > t. Smallest t with FMR ≤ target among the impostor scores. */
function thresholdFor(imp: number[], fmr: number): number {
  const s = [...imp].sort((a, b) => b - a);
  const k = Math.floor(fmr * s.length); // at most k impostors above t
  return k >= s.length ? -Infinity : s[k]!;
}
const rate = (xs: number[], t: number, above: boolean): number => xs.filter((x) => (above ? x > t : x <= t)).length / xs.length;

function report(label: string, sc: Scored[], dev: (f: number) => boolean, defaults: { review: number; decline: number }): void {
  const test = sc.filter((s) => !dev(s.fold));
  const gen = test.filter((s) => s.same);
  const imp = test.filter((s) => !s.same);
  const g = gen.filter((s) => s.score !== null).map((s) => s.score!);
  const i = imp.filter((s) => s.score !== null).map((s) => s.score!);
  const lostG = gen.length - g.length;
  const dImp = sc.filter((s) => dev(s.fold) && !s.same && s.score !== null).map((s) => s.score!);
  console.log(`\n## ${label}: reported on ${gen.length} same-person (${lostG} not scorable) and ${imp.length} different-person pairs (${imp.length - i.length} not scorable)`);
  // EER
  let eer = 1, eerT = 0;
  for (let t = 0; t <= 100; t += 0.05) {
    const fmr = rate(i, t, true), fnmr = rate(g, t, false);
    const e = Math.max(fmr, fnmr);
    if (e < eer) { eer = e; eerT = t; }
  }
  console.log(`EER ≈ ${(eer * 100).toFixed(2)}% at score ${eerT.toFixed(2)}`);
  for (const target of [0.01, 0.001, 0.0001]) {
    const tHere = thresholdFor(i, target);
    const line = [`FMR ${(target * 100).toString()}%:`, `on these pairs t=${tHere.toFixed(2)} FNMR ${pct(g.filter((x) => x <= tHere).length, g.length)} (counting unscorable as rejected ${pct(g.filter((x) => x <= tHere).length + lostG, gen.length)})`];
    if (dImp.length) {
      const tDev = thresholdFor(dImp, target);
      line.push(`| chosen on dev folds t=${tDev.toFixed(2)}: FMR ${pct(i.filter((x) => x > tDev).length, i.length)} FNMR ${pct(g.filter((x) => x <= tDev).length, g.length)}`);
    }
    console.log(line.join('  '));
  }
  const ts = [20, 30, 40, 45, 48, 50, 52, 54, 56, 58, 60, 62, 65, 70, 75, 80];
  console.log('| score > | FMR | FNMR |\n|---:|---:|---:|');
  for (const t of ts) console.log(`| ${t} | ${pct(i.filter((x) => x > t).length, i.length)} | ${pct(g.filter((x) => x <= t).length, g.length)} |`);
  const ap = (xs: number[]) => xs.filter((x) => x > defaults.review).length;
  const rv = (xs: number[]) => xs.filter((x) => x > defaults.decline && x <= defaults.review).length;
  console.log(`default thresholds review ${defaults.review} / decline ${defaults.decline}: FMR ${pct(ap(i), i.length)} (${ap(i)}/${i.length}), different-person In Review ${pct(rv(i), i.length)}; ` +
    `FNMR ${pct(g.length - ap(g), g.length)} (${rv(g)} In Review, ${g.length - ap(g) - rv(g)} Declined; ${pct(gen.length - ap(g), gen.length)} counting unscorable pairs)`);
  // What `compare --pairs` with the default quality gate would give: a refused image fails its pair.
  const gatedOk = gen.filter((s) => s.score !== null && !s.gated && s.score > defaults.review).length;
  console.log(`with the default quality gate as well (a refused image fails the pair): FNMR ${pct(gen.length - gatedOk, gen.length)}; same-person pairs with a refused image ${gen.filter((s) => s.gated).length}`);
  const sortedI = [...i].sort((a, b) => a - b);
  console.log(`different-person score: median ${sortedI[Math.floor(sortedI.length / 2)]?.toFixed(2)} max ${sortedI.at(-1)?.toFixed(2)}; same-person median ${[...g].sort((a, b) => a - b)[Math.floor(g.length / 2)]?.toFixed(2)}`);
}

for (const model of ['current', 'legacy'] as const) {
  const sc = scorePairs(model);
  const name = model === 'current' ? `${MODEL.id}` : `${LEGACY_MODEL.id} (previous engine)`;
  const defaults = model === 'current' ? DEFAULT_THRESHOLDS : LEGACY_THRESHOLDS;
  report(`${name}, test folds 6–10 (thresholds from folds 1–5)`, sc, (f) => f <= 5, defaults);
  report(`${name}, all folds`, sc, () => false, defaults);
}
