/**
 * How often the 1:N duplicate check (src/verifier/capture/screen-face.ts) would flag a DIFFERENT
 * person, at the face-match decline threshold (50) and at stricter ones, on real faces.
 *
 * ../shared/faces (8 people × 5, as selfie frames): each person in turn is the new enrolment (each of
 * their 5 images as the capture); the other 7 people are enrolled accounts, each from one of their
 * images (5 galleries): 8 × 5 × 5 = 200 searches of a gallery of 7 strangers. A search flags when the
 * best stranger scores above the threshold. Also how often the same person IS found (their own
 * account, enrolled from another image), which is what the check is for.
 *
 * With --lfw (../shared/faces-lfw, the per-image cache bench/face/lfw.ts leaves in the OS temp dir, or its own;
 * analyses what is missing, one worker; `--lfw 2000`: the first 2,000 people only): one image per person as the enrolled accounts, every other
 * person's first image as a new enrolment, for gallery sizes 10 … all.
 *
 *   PATH=node_modules/.bin:$PATH node bench/face/duplicates.ts [--lfw [people]]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_MAX_BYTES, createFaceEngine, DEFAULT_THRESHOLDS, EMBEDDING_SIZE, MODEL } from '../../src/face/index.ts';
import { FlatIndex } from '../../src/verifier/faces/flat-index.ts';
import { scoreOfCosine } from '../../src/verifier/faces/search-index.ts';
import { REPO_ROOT, selfieFrame, sharedFaces } from './common.ts';

const THRESHOLDS = [DEFAULT_THRESHOLDS.decline, DEFAULT_THRESHOLDS.review, 60, 65, 70];
const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}% (${n}/${d})`;

const engine = await createFaceEngine({ poolSize: 1, queueLimit: 10_000 });
const faces = sharedFaces();
const emb = new Map<string, Float32Array>();
for (const f of faces) emb.set(f.file, (await engine.analyze(await selfieFrame(f.file))).embedding);
const people = [...new Set(faces.map((f) => f.id))];
const imagesOf = (p: string) => faces.filter((f) => f.id === p).map((f) => emb.get(f.file)!);

const strangerBest: number[] = [];
const ownBest: number[] = [];
for (const person of people) {
  const probes = imagesOf(person);
  for (let g = 0; g < 5; g++) {
    const gallery = new FlatIndex<string>(EMBEDDING_SIZE);
    for (const other of people) if (other !== person) gallery.upsert(other, imagesOf(other)[g]!, other);
    // Their own account, enrolled from image g.
    const own = new FlatIndex<string>(EMBEDDING_SIZE, 1);
    own.upsert(person, probes[g]!, person);
    for (const [i, probe] of probes.entries()) {
      strangerBest.push(scoreOfCosine(gallery.best(probe)!.cosine));
      if (i !== g) ownBest.push(scoreOfCosine(own.best(probe)!.cosine));
    }
  }
}
console.log(`shared faces (${people.length} people × 5, selfie frames, ${MODEL.id}@${MODEL.version}): ${strangerBest.length} searches of a gallery of ${people.length - 1} strangers; ${ownBest.length} of the person's own account`);
for (const t of THRESHOLDS) {
  console.log(`  score > ${t}: stranger flagged (false duplicate) ${pct(strangerBest.filter((s) => s > t).length, strangerBest.length)}; own account found ${pct(ownBest.filter((s) => s > t).length, ownBest.length)}`);
}
console.log(`  best stranger score: max ${Math.max(...strangerBest).toFixed(2)}, median ${[...strangerBest].sort((a, b) => a - b)[strangerBest.length >> 1]!.toFixed(2)}`);

if (process.argv.includes('--lfw')) {
  const LFW = path.resolve(REPO_ROOT, '..', 'shared', 'faces-lfw');
  // lfw.ts's cache is read when there is one; what is analysed here goes to a cache of its own
  // (lfw.ts's entries also hold the previous model's embedding, which this does not compute).
  const LFW_CACHE = path.join(os.tmpdir(), `selfie-idp-lfw-${MODEL.id}-${MODEL.version}.json`);
  const CACHE = path.join(os.tmpdir(), `selfie-idp-lfw-dup-${MODEL.id}-${MODEL.version}.json`);
  const read = (f: string) => (fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, { e?: string; err?: string }>) : {});
  const cache = { ...read(CACHE), ...read(LFW_CACHE) };
  const limit = Number(process.argv[process.argv.indexOf('--lfw') + 1]) || Infinity;
  const dirs = fs.readdirSync(path.join(LFW, 'images')).sort().slice(0, limit);
  // One image per person: the first (sorted) with a usable face.
  const firsts: Array<{ person: string; e: Float32Array }> = [];
  let analysed = 0;
  for (const d of dirs) {
    for (const f of fs.readdirSync(path.join(LFW, 'images', d)).sort()) {
      const key = `images/${d}/${f}`;
      if (!cache[key]) {
        try {
          const a = await engine.analyze(fs.readFileSync(path.join(LFW, key)), { maxBytes: CLI_MAX_BYTES, qualityGate: false });
          cache[key] = { e: Buffer.from(a.embedding.buffer, a.embedding.byteOffset, a.embedding.byteLength).toString('base64') };
        } catch (err) {
          cache[key] = { err: String((err as { code?: string }).code ?? err) };
        }
        analysed++;
      }
      const e = cache[key]!.e;
      if (e) {
        const buf = Buffer.from(e, 'base64');
        firsts.push({ person: d, e: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) });
        break;
      }
    }
  }
  if (analysed) fs.writeFileSync(CACHE, JSON.stringify(cache));
  // Half the people are accounts, the other half new enrolments (all strangers to the accounts).
  const accounts = firsts.filter((_, i) => i % 2 === 0);
  const newcomers = firsts.filter((_, i) => i % 2 === 1);
  console.log(`faces-lfw: ${firsts.length} people with a usable image (${analysed} analysed now); ${newcomers.length} new enrolments searched against galleries of the other half`);
  for (const n of [...new Set([10, 100, 1000, 10_000, accounts.length])].filter((x) => x <= accounts.length)) {
    const gallery = new FlatIndex<string>(EMBEDDING_SIZE, n);
    for (const a of accounts.slice(0, n)) gallery.upsert(a.person, a.e, a.person);
    const best = newcomers.map((p) => scoreOfCosine(gallery.best(p.e)!.cosine));
    console.log(`  gallery ${n}: ${THRESHOLDS.map((t) => `> ${t}: ${pct(best.filter((s) => s > t).length, best.length)}`).join('; ')}`);
  }
}
await engine.close();
