/**
 * Every PASSIVE signal's output (scores, reasons, details, warnings, the combination) on the rendered
 * sessions of bench/liveness/generate.ts, as JSON: run it before and after a change meant to leave
 * the numbers alone (a speed-up) and compare the two files byte for byte. The face boxes come from
 * the face engine once and are kept in DIR/faces.json, so both runs judge the same boxes.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/generate.ts --seeds 1001-1020 --out data/ls-all
 *   PATH=node_modules/.bin:$PATH node bench/liveness/signals-dump.ts data/ls-all /tmp/before.json [--seeds 1001-1020]
 *   (change, run again into /tmp/after.json)   cmp /tmp/before.json /tmp/after.json
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createAnalyzer } from '../../src/face/analyze.ts';
import { decodeFrames, decodeRgb } from '../../src/liveness/index.ts';
import { passiveLiveness } from '../../src/liveness/passive.ts';
import type { FaceGeometry } from '../../src/liveness/types.ts';
import { loadRenderedSessions } from './rendered-sessions.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seeds: { type: 'string', default: '1001-1020' } } });
const [dir, out] = positionals;
if (!dir || !out) throw new Error('usage: signals-dump.ts DIR OUT.json [--seeds A-B]');
const [s0, s1] = values.seeds!.split('-').map(Number) as [number, number];
const sessions = loadRenderedSessions(dir, [s0, s1]);
sharp.cache(false); // as the workers run it
const facesFile = `${dir}/faces.json`;
const faces: Record<string, FaceGeometry | null> = fs.existsSync(facesFile) ? JSON.parse(fs.readFileSync(facesFile, 'utf8')) : {};
const analyzer = await createAnalyzer({ threads: 1 });
const results: Record<string, unknown> = {};
for (const s of sessions) {
  if (!(s.id in faces)) {
    try {
      const f = (await analyzer.analyze(s.still)).face;
      faces[s.id] = { box: f.box, landmarks: f.landmarks };
    } catch {
      faces[s.id] = null; // refused by the engine before liveness, as in the verifier
    }
  }
  const face = faces[s.id];
  if (!face) continue;
  const [still, burst] = await Promise.all([decodeRgb(s.still), decodeFrames(s.frames.map((bytes, k) => ({ bytes, t: s.meta.times[k]! })))]);
  const r = passiveLiveness({ still, face, burst, captureIndex: s.meta.captureIndex, screenPattern: s.meta.screenPattern });
  results[s.id] = { ...r, ms: undefined }; // everything but the time taken
}
fs.writeFileSync(facesFile, JSON.stringify(faces));
fs.writeFileSync(out, JSON.stringify(results, null, 1));
console.log(`${Object.keys(results).length} sessions judged, ${sessions.length - Object.keys(results).length} refused by the face engine; written to ${out}`);
