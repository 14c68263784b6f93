/**
 * One-off: landmarks of the shared face crops, for the synthetic generator (which must not need the
 * face engine, so tests stay fast). Writes test/synthetic/faces.json.
 *   PATH=node_modules/.bin:$PATH node bench/liveness/face-landmarks.ts [../shared/faces]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createFaceEngine } from '../../src/face/index.ts';

const root = path.resolve(process.argv[2] ?? '../shared/faces');
const engine = await createFaceEngine({ poolSize: 1 });
const out: Array<{ file: string; landmarks: number[]; pose: { yaw: number; pitch: number; roll: number } }> = [];
try {
  for (const name of fs.readdirSync(root).sort()) {
    const dir = path.join(root, name);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir).sort()) {
      if (!f.endsWith('.png')) continue;
      const a = await engine.analyze(fs.readFileSync(path.join(dir, f)), { qualityGate: false });
      out.push({ file: `${name}/${f}`, landmarks: a.face.landmarks.flatMap((p) => [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10]), pose: a.face.pose });
    }
  }
} finally {
  await engine.close();
}
const dest = path.resolve('test/synthetic/faces.json');
fs.writeFileSync(dest, JSON.stringify({ source: 'landmarks of ../shared/faces by src/face (face-api 68 points), crop pixels', faces: out }) + '\n');
console.log(`wrote ${out.length} faces to ${dest}`);
