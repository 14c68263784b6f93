import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalyze, runCompare } from '../../src/face/cli.ts';
import { createFaceEngine, DEFAULT_THRESHOLDS, type FaceEngine } from '../../src/face/index.ts';
import { FACES_DIR } from '../../bench/face/common.ts';

let engine: FaceEngine;
let dir: string;
const f = (id: string, n: number) => path.join(FACES_DIR, id, `${id}${n}.png`);

beforeAll(async () => {
  engine = await createFaceEngine({ poolSize: 2, queueLimit: 256 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-cli-'));
  fs.writeFileSync(path.join(dir, 'grey.jpg'), await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080' } }).jpeg().toBuffer());
});
afterAll(async () => {
  await engine?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function run(fn: typeof runCompare, argv: string[], withEngine = true) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => { out += d.toString(); });
  stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await fn(argv, withEngine ? { stdout, stderr, engine } : { stdout, stderr });
  return { code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), err };
}

describe('selfie-idp compare', () => {
  it('prints one JSON line with the contract fields', async () => {
    const { code, lines } = await run(runCompare, [f('penny', 1), f('penny', 5)]);
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const l = lines[0]!;
    expect(Object.keys(l)).toEqual(['a', 'b', 'similarity', 'score', 'decision', 'match', 'threshold', 'ms']);
    expect(l.a).toBe(f('penny', 1));
    expect(l.decision).toBe('Approved');
    expect(l.match).toBe(true);
    expect(l.threshold).toBe(DEFAULT_THRESHOLDS.review);
    expect(l.score as number).toBeGreaterThan(DEFAULT_THRESHOLDS.review);
    expect(l.similarity as number).toBeCloseTo((l.score as number) / 100, 3);
    expect(l.ms as number).toBeGreaterThan(0);
  });

  it('--pairs: a line per pair in order, errors inline, each image analysed once', async () => {
    const pairsFile = path.join(dir, 'pairs.tsv');
    const missing = path.join(dir, 'nope.png');
    const grey = path.join(dir, 'grey.jpg');
    const pairs = [
      [f('howard', 1), f('howard', 2)],
      [f('howard', 1), f('sheldon', 1)],
      [f('howard', 2), f('sheldon', 1)],
      [f('howard', 1), missing],
      [grey, f('sheldon', 1)],
      [f('sheldon', 1), f('howard', 1)],
    ];
    fs.writeFileSync(pairsFile, `# comment\n${pairs.map((p) => p.join('\t')).join('\n')}\n\n`);
    const before = engine.stats().completed;
    const { code, lines } = await run(runCompare, ['--pairs', pairsFile]);
    expect(code).toBe(0);
    expect(lines.map((l) => [l.a, l.b])).toEqual(pairs);
    expect(lines[0]!.decision).toBe('Approved');
    expect(lines[1]!.decision).toBe('Declined');
    expect(lines[2]!.match).toBe(false);
    expect(lines[3]).toEqual({ a: f('howard', 1), b: missing, error: 'FILE_NOT_FOUND' });
    expect(lines[4]).toEqual({ a: grey, b: f('sheldon', 1), error: 'NO_FACE_DETECTED' });
    expect(lines[5]!.score).toBe(lines[1]!.score); // symmetric
    // howard1, howard2, sheldon1 and grey reach the engine once each (the missing file never does).
    expect(engine.stats().completed - before).toBe(3);
  });

  it('exits 2 on bad usage', async () => {
    expect((await run(runCompare, [f('amy', 1)], false)).code).toBe(2);
    expect((await run(runCompare, [], false)).code).toBe(2);
    expect((await run(runCompare, ['--pairs'], false)).code).toBe(2);
    expect((await run(runCompare, ['--pairs', path.join(dir, 'absent.tsv')], false)).code).toBe(2);
    expect((await run(runCompare, ['--bogus', 'a', 'b'], false)).code).toBe(2);
    expect((await run(runCompare, ['--review', '10', '--decline', '50', 'a', 'b'], false)).code).toBe(2);
    const bad = path.join(dir, 'bad.tsv');
    fs.writeFileSync(bad, 'only-one-column\n');
    const r = await run(runCompare, ['--pairs', bad], false);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.tsv:1/);
    expect((await run(runAnalyze, [], false)).code).toBe(2);
  });
});

describe('selfie-idp analyze', () => {
  it('prints faces, pose and quality per image, never the embedding', async () => {
    const { code, lines } = await run(runAnalyze, [f('leonard', 2), path.join(dir, 'grey.jpg')]);
    expect(code).toBe(0);
    expect(lines).toHaveLength(2);
    const l = lines[0]! as { file: string; faces: Array<Record<string, unknown>>; image: unknown; ms: number };
    expect(l.file).toBe(f('leonard', 2));
    expect(l.image).toEqual({ width: 150, height: 150, format: 'png' });
    expect(l.faces).toHaveLength(1);
    expect(l.faces[0]!.dominant).toBe(true);
    expect(Object.keys(l.faces[0]!.pose as object)).toEqual(['yaw', 'pitch', 'roll']);
    expect(Object.keys(l.faces[0]!.quality as object)).toEqual(['brightness', 'contrast', 'sharpness', 'faceSize', 'centred']);
    expect(l.faces[0]!.landmarks).toHaveLength(68);
    expect(JSON.stringify(lines)).not.toMatch(/embedding/);
    expect(lines[1]).toEqual({ file: path.join(dir, 'grey.jpg'), error: 'NO_FACE_DETECTED' });
  });
});
