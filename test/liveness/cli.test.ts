// `selfie-idp liveness` (runLiveness): output shape, methods, exit codes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLiveness } from '../../src/liveness/cli.ts';
import { createChallenge, parseChallenge } from '../../src/liveness/challenge.ts';
import { seededRng } from '../../src/liveness/rng.ts';

import { generateActiveFrames } from '../synthetic/active.ts';
import { generateFlashingSample } from '../synthetic/flashing.ts';
import { generatePassiveSample } from '../synthetic/generate.ts';
import { loadFaceSources, DEFAULT_FACES_DIR } from '../synthetic/head.ts';
import { writeY4m } from '../../src/liveness/y4m.ts';

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, cb) { text += chunk.toString(); cb(); } });
  return { stream, get text() { return text; }, get lines() { return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>); } };
}

async function run(args: string[]) {
  const out = sink(), err = sink();
  const code = await runLiveness(args, { stdout: out.stream, stderr: err.stream });
  return { code, out, err };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liveness-cli-'));
const box = (b: { x: number; y: number; width: number; height: number }) => [b.x, b.y, b.width, b.height].map((v) => v.toFixed(1)).join(',');
let bonaStill = '', bonaBox = '', frozenY4m = '', frozenBox = '', flashY4m = '', flashBox = '', flashChallenge = '';

beforeAll(async () => {
  const faces = await loadFaceSources();
  const bona = await generatePassiveSample('bona_fide', 1, faces);
  bonaStill = path.join(dir, 'bona.jpg');
  fs.writeFileSync(bonaStill, bona.stillJpeg!);
  bonaBox = box(bona.stillFace.box);
  const frozen = await generatePassiveSample('injected_still', 1, faces);
  frozenY4m = path.join(dir, 'frozen.y4m');
  fs.writeFileSync(frozenY4m, writeY4m(frozen.burst.map((f) => f.image), 12.5));
  frozenBox = box(frozen.burstFace.box);
  const flash = await generateFlashingSample('bona_fide', 2, faces);
  flashY4m = path.join(dir, 'flash.y4m');
  fs.writeFileSync(flashY4m, writeY4m(flash.frames.map((f) => f.image), flash.challenge.fps));
  flashBox = box(flash.face.box);
  flashChallenge = path.join(dir, 'flash.json');
  fs.writeFileSync(flashChallenge, JSON.stringify(flash.challenge));
  // ACTIVE_3D: a genuine answer and the same turns in the wrong order, for one challenge
  for (const kind of ['bona_fide', 'wrong_order'] as const) {
    const a = await generateActiveFrames(kind, 3, faces, undefined, { zoom: 0.75 });
    fs.writeFileSync(path.join(dir, `active-${kind}.y4m`), writeY4m(a.frames.map((f) => f.image), a.challenge.fps));
    fs.writeFileSync(path.join(dir, `active-${kind}.json`), JSON.stringify(a.challenge));
  }
  // PASSIVE with screen light: a live burst and a phone replay under one pattern
  const ch = createChallenge('PASSIVE', seededRng(7));
  fs.writeFileSync(path.join(dir, 'light.json'), JSON.stringify(ch));
  for (const kind of ['bona_fide', 'phone_video'] as const) {
    const s = await generatePassiveSample(kind, 5, faces, { screenLight: { pattern: ch.pattern, gain: 0.1 } });
    fs.writeFileSync(path.join(dir, `light-${kind}.y4m`), writeY4m(s.burst.map((f) => f.image), 12.5));
    fs.writeFileSync(path.join(dir, `light-${kind}.box`), box(s.burstFace.box));
  }
  fs.writeFileSync(path.join(dir, 'clip.mp4'), Buffer.from('not really a video'));
  fs.writeFileSync(path.join(dir, 'bad.json'), '{"v":1}');
}, 240_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('usage', () => {
  it('exits 2 on bad usage', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--bogus', 'x.jpg'])).code).toBe(2);
    expect((await run(['--method', 'FLASHING', 'x.y4m'])).code).toBe(2);
    expect((await run(['--method', 'SOMETHING', 'x.y4m'])).code).toBe(2);
    expect((await run(['--method', 'FLASHING', '--challenge', path.join(dir, 'bad.json'), 'x.y4m'])).code).toBe(2);
    expect((await run(['--method', 'ACTIVE_3D', '--challenge', flashChallenge, 'x.y4m'])).code).toBe(2);
    expect((await run(['--face', '1,2,3', 'x.jpg'])).code).toBe(2);
    const r = await run(['--threshold', '400', 'x.jpg']);
    expect(r.code).toBe(2);
    expect(r.err.text).toMatch(/usage: selfie-idp liveness/);
  });

  it('prints help and new challenges with exit 0', async () => {
    const h = await run(['--help']);
    expect(h.code).toBe(0);
    expect(h.out.text).toMatch(/y4m/);
    const c = await run(['--new-challenge', 'ACTIVE_3D']);
    expect(c.code).toBe(0);
    expect(parseChallenge(c.out.lines[0]).method).toBe('ACTIVE_3D');
  });
});

describe('output', () => {
  it('prints one line per input with exactly file, live, score, method, warnings, ms', async () => {
    const r = await run(['--face', bonaBox, bonaStill, path.join(dir, 'missing.png')]);
    expect(r.code).toBe(0);
    const [a, b] = r.out.lines;
    expect(Object.keys(a!)).toEqual(['file', 'live', 'score', 'method', 'warnings', 'ms']);
    expect(a).toMatchObject({ file: bonaStill, live: true, method: 'PASSIVE' });
    expect(a!.score).toBeGreaterThan(50);
    expect(Array.isArray(a!.warnings)).toBe(true);
    expect(b).toEqual({ file: path.join(dir, 'missing.png'), error: 'FILE_NOT_FOUND' });
  });

  it('runs the burst signals on a y4m video and refuses identical frames', async () => {
    const r = await run(['--face', frozenBox, '--verbose', frozenY4m]);
    expect(r.code).toBe(0);
    const line = r.out.lines[0]!;
    expect(line.live).toBe(false);
    const risks = (line.warnings as Array<{ risk: string }>).map((w) => w.risk);
    expect(risks).toContain('LIVENESS_FACE_ATTACK');
    expect(risks).toContain('FROZEN_FRAMES');
    expect((line.signals as Array<{ signal: string }>).map((s) => s.signal)).toContain('motion');
  });

  it('checks a PASSIVE burst taken under its screen-light pattern', async () => {
    const light = path.join(dir, 'light.json');
    const file = (k: string) => path.join(dir, `light-${k}.y4m`);
    const faceOf = (k: string) => fs.readFileSync(path.join(dir, `light-${k}.box`), 'utf8');
    const live = await run(['--method', 'PASSIVE', '--challenge', light, '--face', faceOf('bona_fide'), '--verbose', file('bona_fide')]);
    expect(live.code).toBe(0);
    expect(live.out.lines[0]).toMatchObject({ method: 'PASSIVE', live: true });
    expect((live.out.lines[0]!.signals as Array<{ signal: string; applies: boolean }>).filter((x) => x.applies).map((x) => x.signal)).toEqual(expect.arrayContaining(['screen_light', 'light_shading', 'light_falloff']));
    const replay = await run(['--method', 'PASSIVE', '--challenge', light, '--face', faceOf('phone_video'), file('phone_video')]);
    expect(replay.out.lines[0]).toMatchObject({ method: 'PASSIVE', live: false });
    expect((replay.out.lines[0]!.warnings as Array<{ risk: string }>).map((w) => w.risk)).toContain('LIGHT_MISMATCH');
    // a challenge of another method is a usage error
    expect((await run(['--method', 'PASSIVE', '--challenge', flashChallenge, file('bona_fide')])).code).toBe(2);
  });

  it('checks a FLASHING recording against its challenge', async () => {
    const r = await run(['--method', 'FLASHING', '--challenge', flashChallenge, '--face', flashBox, flashY4m]);
    expect(r.code).toBe(0);
    expect(r.out.lines[0]).toMatchObject({ method: 'FLASHING', live: true });
  });

  it('checks an ACTIVE_3D recording against its challenge with the face engine', async () => {
    const file = (k: string) => path.join(dir, `active-${k}.y4m`);
    const ok = await run(['--method', 'ACTIVE_3D', '--challenge', path.join(dir, 'active-bona_fide.json'), file('bona_fide')]);
    expect(ok.code).toBe(0);
    expect(ok.out.lines[0]).toMatchObject({ file: file('bona_fide'), method: 'ACTIVE_3D', live: true, warnings: [] });
    const wrong = await run(['--method', 'ACTIVE_3D', '--challenge', path.join(dir, 'active-wrong_order.json'), file('wrong_order')]);
    expect(wrong.out.lines[0]).toMatchObject({ method: 'ACTIVE_3D', live: false });
    expect((wrong.out.lines[0]!.warnings as Array<{ risk: string }>).map((w) => w.risk)).toContain('CHALLENGE_ORDER');
  }, 120_000);

  it('needs ffmpeg for other video formats and says so', async () => {
    const prev = process.env.LIVENESS_FFMPEG;
    process.env.LIVENESS_FFMPEG = 'none';
    try {
      const r = await run(['--face', '1,1,10,10', path.join(dir, 'clip.mp4')]);
      expect(r.code).toBe(0);
      expect(r.out.lines[0]).toEqual({ file: path.join(dir, 'clip.mp4'), error: 'FFMPEG_NOT_FOUND' });
    } finally {
      if (prev === undefined) delete process.env.LIVENESS_FFMPEG; else process.env.LIVENESS_FFMPEG = prev;
    }
  });

  it('finds the face with the face engine when no box is given (a tight shared crop is judged, not refused)', async () => {
    const file = path.join(DEFAULT_FACES_DIR, 'leonard', 'leonard2.png');
    const r = await run([file]);
    expect(r.code).toBe(0);
    const line = r.out.lines[0]!;
    expect(line).toMatchObject({ file, method: 'PASSIVE', live: true });
  }, 60_000);
});
