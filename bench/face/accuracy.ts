/**
 * Accuracy on ../shared/faces: every genuine and impostor pair, for the engine and the reference
 * pipeline, on selfie-like frames (each 150 px crop pasted unscaled in a 640×480 grey frame, JPEG q90)
 * and on the raw crops. Prints face counts, the ROC table (FMR, FNMR per threshold), EER, d′, and the
 * thresholds for FMR ≤ 0.1 % and ≤ 1 % (empirical, and from a normal fit of the impostor scores, which
 * is what the defaults are taken from: 700 impostor pairs cannot show 0.1 % by counting).
 *
 *   PATH=node_modules/.bin:$PATH node bench/face/accuracy.ts [--no-reference]
 */
import fs from 'node:fs';
import path from 'node:path';
import { cosine, createFaceEngine, DEFAULT_THRESHOLDS, FaceError, similarityFromCosine } from '../../src/face/index.ts';
import { qualityIssue } from '../../src/face/quality.ts';
import { allPairs, FACES_DIR, percentile, selfieFrame, sharedFaces } from './common.ts';
import { createReference } from './reference.ts';

const withReference = !process.argv.includes('--no-reference');
const faces = sharedFaces();
const frames = await Promise.all(faces.map(async (f) => ({ ...f, raw: fs.readFileSync(f.file), frame: await selfieFrame(f.file) })));
const { genuine, impostor } = allPairs(frames);
console.log(`shared faces: ${faces.length} images, ${new Set(faces.map((f) => f.id)).size} identities, ${genuine.length} genuine + ${impostor.length} impostor pairs (${path.relative(process.cwd(), FACES_DIR)})`);

type Emb = Map<string, Float32Array>;

async function runEngine(kind: 'frame' | 'raw'): Promise<Emb> {
  const engine = await createFaceEngine({ queueLimit: 1000 });
  const out: Emb = new Map();
  const counts: number[] = [];
  const errors: string[] = [];
  const gate: string[] = [];
  await Promise.all(frames.map(async (f) => {
    const bytes = kind === 'frame' ? f.frame : f.raw;
    try {
      // Scored without the quality gate (every image counts); the gate is reported separately.
      const a = await engine.analyze(bytes, { qualityGate: false });
      out.set(f.file, a.embedding);
      counts.push(1 + a.otherFaces.length);
      const issue = qualityIssue(a.face.quality, a.face.pose);
      if (issue) gate.push(`${path.basename(f.file)}:${issue.measure}=${issue.value}`);
    } catch (e) {
      errors.push(`${path.basename(f.file)}:${e instanceof FaceError ? e.code : String(e)}`);
    }
  }));
  await engine.close();
  const exactlyOne = counts.filter((c) => c === 1).length;
  console.log(`engine/${kind}: ${exactlyOne}/${frames.length} images with exactly one face${errors.length ? `; failed: ${errors.join(' ')}` : ''}; default quality gate refuses ${gate.length}${gate.length ? ` (${gate.join(' ')})` : ''}`);
  return out;
}

async function runReference(): Promise<Emb> {
  const ref = await createReference();
  const out: Emb = new Map();
  let exactlyOne = 0;
  for (const f of frames) {
    const r = await ref.analyze(f.frame);
    if (r.embedding) out.set(f.file, r.embedding);
    if (r.faces === 1) exactlyOne++;
  }
  console.log(`reference/frame: ${exactlyOne}/${frames.length} images with exactly one face`);
  return out;
}

interface Scores { gen: number[]; imp: number[]; missing: number }

function scores(emb: Emb): Scores {
  const s = (a: Float32Array, b: Float32Array) => 100 * similarityFromCosine(cosine(a, b));
  const gen: number[] = [];
  const imp: number[] = [];
  let missing = 0;
  for (const [list, into] of [[genuine, gen], [impostor, imp]] as const) {
    for (const [a, b] of list) {
      const ea = emb.get(a.file);
      const eb = emb.get(b.file);
      if (!ea || !eb) { missing++; continue; }
      into.push(s(ea, eb));
    }
  }
  gen.sort((x, y) => x - y);
  imp.sort((x, y) => x - y);
  return { gen, imp, missing };
}

const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const sd = (x: number[]) => { const m = mean(x); return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1)); };
const fmrAt = (s: Scores, t: number) => s.imp.filter((v) => v > t).length / s.imp.length;
const fnmrAt = (s: Scores, t: number) => s.gen.filter((v) => v <= t).length / s.gen.length;
const pct = (v: number) => `${(100 * v).toFixed(2)}%`.padStart(7);

function summary(name: string, s: Scores): { fit01: number; fit1: number; zero: number } {
  const m = mean(s.imp), d = sd(s.imp);
  let eer = 1, eerT = 0;
  for (let t = 0; t <= 100; t += 0.1) {
    const a = fmrAt(s, t), b = fnmrAt(s, t);
    if (Math.abs(a - b) < Math.abs(eer - 0) || Math.max(a, b) < eer) { if (Math.max(a, b) < eer) { eer = Math.max(a, b); eerT = t; } }
  }
  const zero = s.imp.at(-1)!; // FMR 0 needs score > max impostor
  const fit01 = m + 3.090 * d;
  const fit1 = m + 2.326 * d;
  const dprime = (mean(s.gen) - m) / Math.sqrt((sd(s.gen) ** 2 + d ** 2) / 2);
  console.log(`\n## ${name}: ${s.gen.length} genuine, ${s.imp.length} impostor scored${s.missing ? `, ${s.missing} pairs lost to detection failures` : ''}`);
  console.log(`genuine  score: min ${s.gen[0]!.toFixed(1)}  p5 ${percentile(s.gen, 5).toFixed(1)}  median ${percentile(s.gen, 50).toFixed(1)}`);
  console.log(`impostor score: median ${percentile(s.imp, 50).toFixed(1)}  p99 ${percentile(s.imp, 99).toFixed(1)}  max ${zero.toFixed(1)}  (mean ${m.toFixed(1)}, sd ${d.toFixed(1)})`);
  console.log(`d' ${dprime.toFixed(2)}   EER ${pct(eer).trim()} at score ${eerT.toFixed(1)}`);
  console.log(`FMR 0 on these pairs needs score > ${zero.toFixed(1)}: FNMR ${pct(fnmrAt(s, zero)).trim()}`);
  console.log(`normal fit of impostors: FMR 1% at ${fit1.toFixed(1)} (FNMR ${pct(fnmrAt(s, fit1)).trim()}), FMR 0.1% at ${fit01.toFixed(1)} (FNMR ${pct(fnmrAt(s, fit01)).trim()})`);
  return { fit01, fit1, zero };
}

function rocTable(rows: Array<[string, Scores]>): void {
  console.log(`\nROC (decision "match" = score > threshold)\n| threshold | ${rows.map(([n]) => `${n} FMR | ${n} FNMR`).join(' | ')} |`);
  console.log(`|---:|${rows.map(() => '---:|---:').join('|')}|`);
  for (let t = 40; t <= 90; t += 5) {
    console.log(`| ${t} | ${rows.map(([, s]) => `${pct(fmrAt(s, t))} | ${pct(fnmrAt(s, t))}`).join(' | ')} |`);
  }
}

const engineFrame = scores(await runEngine('frame'));
const engineRaw = scores(await runEngine('raw'));
const rows: Array<[string, Scores]> = [['engine', engineFrame]];
const fit = summary('engine, 640×480 frames', engineFrame);
summary('engine, raw 150 px crops', engineRaw);
if (withReference) {
  const refFrame = scores(await runReference());
  summary('reference (SSD + 68 + recognition, face-api crop), 640×480 frames', refFrame);
  rows.push(['reference', refFrame]);
}
rocTable(rows);

const t = DEFAULT_THRESHOLDS;
console.log(`\ndefault thresholds: review ${t.review} (Approved above), decline ${t.decline} (Declined at or below)`);
for (const [name, s] of [['engine/frames', engineFrame], ['engine/raw', engineRaw]] as const) {
  const fm = fmrAt(s, t.review), fnm = fnmrAt(s, t.review);
  const review = s.gen.filter((v) => v > t.decline && v <= t.review).length + s.imp.filter((v) => v > t.decline && v <= t.review).length;
  console.log(`${name}: FMR ${pct(fm).trim()} (${s.imp.filter((v) => v > t.review).length}/${s.imp.length}), FNMR ${pct(fnm).trim()} (${s.gen.filter((v) => v <= t.review).length}/${s.gen.length}), pairs In Review ${review}, impostors above decline ${s.imp.filter((v) => v > t.decline).length}`);
}
console.log(`suggested from the fit: review ≥ ${Math.ceil(Math.max(fit.fit01, fit.zero))}, decline ≈ ${Math.round(fit.fit1)}`);
