/**
 * The real webcam clips of ../shared/clips-real (a dim room, see its SOURCES.md): every frame through
 * the engine, as the capture page would send it. Counts frames with a face, and what the quality gate
 * says about each (the page turns LOW_QUALITY brightness into "face the light").
 *
 *   PATH=node_modules/.bin:$PATH nice -n 10 node bench/face/webcam-clip.ts [--native]
 *
 * Needs ffmpeg (bench only). Frames are scaled to 640×480 as SOURCES.md does; --native keeps 1080×720.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFaceEngine, isFaceError } from '../../src/face/index.ts';
import { qualityIssue } from '../../src/face/quality.ts';
import { REPO_ROOT } from './common.ts';

const CLIPS = path.resolve(REPO_ROOT, '..', 'shared', 'clips-real');
const native = process.argv.includes('--native');
const engine = await createFaceEngine({ poolSize: 2, queueLimit: 1000 });
for (const clip of ['live.mp4', 'replay-phone.mp4']) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-'));
  execFileSync('ffmpeg', ['-loglevel', 'error', '-i', path.join(CLIPS, clip), '-vf', native ? 'fps=10' : 'scale=640:480,fps=10', '-q:v', '3', path.join(dir, 'f%03d.jpg')]);
  const files = fs.readdirSync(dir).sort();
  const outcome = new Map<string, number>();
  const brightness: number[] = [];
  await Promise.all(files.map(async (f) => {
    let key: string;
    try {
      const a = await engine.analyze(fs.readFileSync(path.join(dir, f)), { qualityGate: false });
      brightness.push(a.face.quality.brightness);
      const issue = qualityIssue(a.face.quality, a.face.pose);
      key = issue ? `face, gate refuses ${issue.measure}` : 'face, passes the gate';
    } catch (e) {
      key = isFaceError(e) ? e.code : String(e);
    }
    outcome.set(key, (outcome.get(key) ?? 0) + 1);
  }));
  brightness.sort((a, b) => a - b);
  console.log(`${clip} (${native ? '1080×720' : '640×480'}, 10 fps): ${files.length} frames: ${JSON.stringify(Object.fromEntries(outcome))}; face brightness min ${brightness[0]} median ${brightness[Math.floor(brightness.length / 2)]}`);
  fs.rmSync(dir, { recursive: true, force: true });
}
await engine.close();
