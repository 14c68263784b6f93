/**
 * One-off comparison of @vladmandic/human's `faceres` descriptor with the engine, on the same shared
 * frames (crop pasted unscaled in a 640×480 grey frame, JPEG q90). Human is NOT a dependency: install
 * it outside the repo and run this file from there:
 *
 *   mkdir -p /tmp/human-eval && cd /tmp/human-eval && echo '{"type":"module"}' > package.json
 *   npm i -E @vladmandic/human@3.3.6 @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-converter@4.22.0 \
 *     @tensorflow/tfjs-backend-wasm@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0 sharp@0.35.5
 *   cp /work/main/bench/face/human-compare.mjs . && node human-compare.mjs /work/shared/faces
 */
import { registerHooks, createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
registerHooks({ resolve(spec, ctx, next) { if (spec === '@tensorflow/tfjs') return next('@tensorflow/tfjs-core', ctx); return next(spec, ctx); } });
const require = createRequire(path.join(process.cwd(), 'package.json'));
const HUMAN_DIR = path.join(process.cwd(), 'node_modules/@vladmandic/human');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-converter');
// chained ops (as the umbrella package would register)
const P = tf.Tensor.prototype;
const special = { as1D() { return tf.reshape(this, [this.size]); }, as2D(r, c) { return tf.reshape(this, [r, c]); }, as3D(r, c, d) { return tf.reshape(this, [r, c, d]); }, as4D(a, b, c, d) { return tf.reshape(this, [a, b, c, d]); }, asScalar() { return tf.reshape(this, []); }, toFloat() { return tf.cast(this, 'float32'); }, toInt() { return tf.cast(this, 'int32'); }, flatten() { return tf.reshape(this, [this.size]); } };
for (const [k, f] of Object.entries(special)) if (!(k in P)) P[k] = f;
for (const n of ['abs','add','all','any','argMax','argMin','avgPool','batchNorm','cast','clipByValue','conv2d','depthwiseConv2d','div','equal','exp','expandDims','floor','gather','greater','less','log','matMul','max','maxPool','maximum','mean','min','minimum','mul','neg','pad','pow','relu','reshape','resizeBilinear','round','separableConv2d','sigmoid','sign','slice','softmax','split','sqrt','square','squeeze','sub','sum','tile','transpose','unstack','where']) if (typeof tf[n] === 'function' && !(n in P)) P[n] = function (...a) { return tf[n](this, ...a); };
const origFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url);
  if (u.startsWith('file://')) return new Response(fs.readFileSync(fileURLToPath(u)));
  return origFetch(url, init);
};
const H = require(path.join(HUMAN_DIR, 'dist/human.node-wasm.js'));
const sharp = require('sharp');
const Human = H.Human ?? H.default;
const human = new Human({
  backend: 'wasm', wasmPath: path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/',
  modelBasePath: pathToFileURL(path.join(HUMAN_DIR, 'models') + '/').href,
  debug: false, async: true, filter: { enabled: false },
  face: { enabled: true, detector: { rotation: true, maxDetected: 3, return: false }, mesh: { enabled: true }, iris: { enabled: false }, description: { enabled: true }, emotion: { enabled: false }, antispoof: { enabled: false }, liveness: { enabled: false } },
  body: { enabled: false }, hand: { enabled: false }, object: { enabled: false }, gesture: { enabled: false }, segmentation: { enabled: false },
});
await human.load(); await human.warmup?.();
console.log('human', human.version, 'backend', human.tf?.getBackend?.() ?? tf.getBackend());
const dir = process.argv[2];
const files = fs.readdirSync(dir).filter(d => fs.statSync(path.join(dir, d)).isDirectory()).flatMap(d => fs.readdirSync(path.join(dir, d)).map(f => path.join(dir, d, f))).sort();
const out = [];
const times = [];
for (const f of files) {
  const face = await sharp(f).removeAlpha().toColourspace('srgb').png().toBuffer();
  const meta = await sharp(face).metadata();
  const frame = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 128 } } }).composite([{ input: face, left: Math.round((640 - meta.width) / 2), top: Math.round((480 - meta.height) / 2) }]).jpeg({ quality: 90 }).toBuffer();
  const { data, info } = await sharp(frame).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const t = tf.tensor4d(new Uint8Array(data), [1, info.height, info.width, 3], 'int32');
  const t0 = performance.now();
  const r = await human.detect(t);
  times.push(performance.now() - t0);
  t.dispose();
  const fc = r.face.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
  out.push({ id: path.basename(path.dirname(f)), file: f, faces: r.face.length, emb: fc?.embedding ? Array.from(fc.embedding) : null });
}
times.sort((a, b) => a - b);
console.log('human detect p50 ms', times[times.length >> 1].toFixed(1));
const E = out;
console.log('faces', out.map(o => o.faces).join(''), 'with embedding', out.filter(o => o.emb).length);
const cos = (a, b) => { let ab = 0, aa = 0, bb = 0; for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] ** 2; bb += b[i] ** 2; } return ab / Math.sqrt(aa * bb); };
const negEuc = (a, b) => -Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
for (const [name, f] of [['cosine', cos], ['-euclidean', negEuc]]) {
  const gen = [], imp = [];
  for (let i = 0; i < E.length; i++) for (let j = i + 1; j < E.length; j++) (E[i].id === E[j].id ? gen : imp).push(f(E[i].emb, E[j].emb));
  const m = x => x.reduce((a, b) => a + b, 0) / x.length, sd = x => Math.sqrt(x.reduce((a, b) => a + (b - m(x)) ** 2, 0) / (x.length - 1));
  const dp = (m(gen) - m(imp)) / Math.sqrt((sd(gen) ** 2 + sd(imp) ** 2) / 2);
  const impMax = Math.max(...imp); const fnmr0 = gen.filter(g => g <= impMax).length / gen.length;
  let eer = 1; const all = [...gen, ...imp].sort((a, b) => a - b);
  for (const t of all) { const fmr = imp.filter(v => v > t).length / imp.length, fnmr = gen.filter(v => v <= t).length / gen.length; eer = Math.min(eer, Math.max(fmr, fnmr)); }
  let auc = 0; for (const g of gen) for (const i of imp) auc += g > i ? 1 : g === i ? 0.5 : 0; auc /= gen.length * imp.length;
  console.log(`human faceres (${E[0].emb.length}-d) ${name}: d' ${dp.toFixed(2)}  EER ${(100 * eer).toFixed(2)}%  AUC ${auc.toFixed(4)}  FNMR at FMR 0 ${(100 * fnmr0).toFixed(2)}%  (${gen.length} genuine, ${imp.length} impostor)`);
}
