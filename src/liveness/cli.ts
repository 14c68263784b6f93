/**
 * `selfie-idp liveness` (dispatched by src/cli.ts as runLiveness(argv)). One JSON line per input:
 *
 *   {"file","live","score","method","warnings","ms"}          (a failed input: {"file","error"})
 *
 *   selfie-idp liveness [options] FILE...
 *     still image (JPEG/PNG/WebP)   single-frame PASSIVE signals (a tight face crop is judged on the
 *                                   signals that apply to it: moiré, glare, print look)
 *     video .y4m                    PASSIVE burst: single-frame signals on the middle frame + motion
 *     other video (.mp4 .webm .mov .mkv .avi ...)  decoded to y4m by ffmpeg when it is installed
 *                                   (Debian's ffmpeg); without ffmpeg: {"file","error":"FFMPEG_NOT_FOUND"}
 *   --method FLASHING|ACTIVE_3D --challenge CHALLENGE.json   a recording (video) of that challenge,
 *                                   frame i at i·1000/fps ms from the challenge start
 *   --method PASSIVE --challenge CHALLENGE.json   a burst (video, one frame per pattern value) taken
 *                                   under that screen-light pattern: adds screen_light and light_shading
 *   --face X,Y,W,H                  face box (pixels) instead of running the face engine (PASSIVE/FLASHING)
 *   --threshold N                   live when score > N (default 50; 40 for a PASSIVE burst with --challenge) and not an attack
 *   --verbose                       add "signals" (per-signal scores and measures) to each line
 *   --new-challenge PASSIVE|FLASHING|ACTIVE_3D   print a fresh challenge as JSON and exit
 *
 * Exit 0 when the run completed (whatever the per-file outcomes), 2 on bad usage, 1 if the face
 * engine could not start. Offline checks skip the single-use and expiry checks (no session store).
 */
import { eachArg, jsonLine, LocalFileError, readLocalFile } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createChallenge, parseChallenge, type Challenge } from './challenge.ts';
import { LIVE_THRESHOLD, SCREEN_LIGHT_LIVE_THRESHOLD } from './combine.ts';
import { decodeRgb, encodePng } from './image.ts';
import { active3dLiveness, analyzeRecording, flashingLiveness, type FaceAnalyzer } from './methods.ts';
import { passiveLiveness, singleFrameSignals } from './passive.ts';
import { combine } from './combine.ts';
import type { Box, FaceGeometry, Frame, LivenessMethod, LivenessResult, RgbImage } from './types.ts';
import { livenessWarning } from './warnings.ts';
import { parseY4m } from './y4m.ts';

export interface LivenessCliIo {
  stdout?: Writable;
  stderr?: Writable;
  /** Face engine to use (tests); default: src/face createFaceEngine({ poolSize: 1 }) started on first need. */
  engine?: FaceAnalyzer & { close?: () => Promise<void> };
}

const USAGE = `usage: selfie-idp liveness [options] FILE...
  still images (JPEG, PNG, WebP): single-frame PASSIVE signals
  .y4m video: PASSIVE burst signals (other video formats need ffmpeg on PATH)
options:
  --method PASSIVE|FLASHING|ACTIVE_3D   (FLASHING and ACTIVE_3D need --challenge and a video)
  --challenge FILE                      the challenge JSON the recording answers
  --face X,Y,W,H                        face box in pixels (skips the face engine for PASSIVE/FLASHING)
  --threshold N                         live when score > N (default ${LIVE_THRESHOLD}; ${SCREEN_LIGHT_LIVE_THRESHOLD} for a PASSIVE burst with its screen-light challenge) and not an attack
  --verbose                             include per-signal scores
  --new-challenge FLASHING|ACTIVE_3D    print a new challenge JSON and exit
`;

const MAX_FILE_BYTES = 200 * 1024 * 1024;
const VIDEO_EXT = new Set(['.mp4', '.webm', '.mov', '.mkv', '.avi', '.m4v', '.gif', '.mpg', '.mpeg', '.ogv', '.3gp']);

class InputError extends Error {
  readonly code: string;
  constructor(code: string, message = code) { super(message); this.code = code; }
}

interface Options {
  method: LivenessMethod;
  challenge: Challenge | null;
  face: Box | null;
  threshold: number | null;
  verbose: boolean;
  files: string[];
  newChallenge: 'PASSIVE' | 'FLASHING' | 'ACTIVE_3D' | null;
  help: boolean;
}

async function parseArgs(argv: readonly string[]): Promise<Options> {
  const o: Options = { method: 'PASSIVE', challenge: null, face: null, threshold: null, verbose: false, files: [], newChallenge: null, help: false };
  let challengeFile: string | null = null;
  for (const { arg: a, value, rest } of eachArg(argv)) {
    if (a === '--help' || a === '-h') o.help = true;
    else if (a === '--method') {
      const m = value().toUpperCase();
      if (m !== 'PASSIVE' && m !== 'FLASHING' && m !== 'ACTIVE_3D') throw new UsageError(`unknown method ${m}`);
      o.method = m;
    } else if (a === '--challenge') challengeFile = value();
    else if (a === '--face') {
      const n = value().split(',').map(Number);
      if (n.length !== 4 || n.some((x) => !Number.isFinite(x)) || n[2]! <= 0 || n[3]! <= 0) throw new UsageError('--face needs X,Y,W,H');
      o.face = { x: n[0]!, y: n[1]!, width: n[2]!, height: n[3]! };
    } else if (a === '--threshold') {
      const t = Number(value());
      if (!Number.isFinite(t) || t < 0 || t > 100) throw new UsageError('--threshold needs a number 0-100');
      o.threshold = t;
    } else if (a === '--verbose') o.verbose = true;
    else if (a === '--new-challenge') {
      const m = value().toUpperCase();
      if (m !== 'PASSIVE' && m !== 'FLASHING' && m !== 'ACTIVE_3D') throw new UsageError('--new-challenge needs PASSIVE, FLASHING or ACTIVE_3D');
      o.newChallenge = m;
    } else if (a === '--') o.files.push(...rest());
    else if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.help || o.newChallenge) return o;
  if (!o.files.length) throw new UsageError('no input files');
  if (o.method !== 'PASSIVE' || challengeFile) {
    if (!challengeFile) throw new UsageError(`--method ${o.method} needs --challenge FILE`);
    let json: unknown;
    try {
      json = JSON.parse(await fs.readFile(challengeFile, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read challenge ${challengeFile}: ${(e as Error).message}`);
    }
    try {
      o.challenge = parseChallenge(json);
    } catch (e) {
      throw new UsageError(`bad challenge ${challengeFile}: ${(e as Error).message}`);
    }
    if (o.challenge.method !== o.method) throw new UsageError(`challenge is for ${o.challenge.method}, not ${o.method}`);
  }
  return o;
}

const line = jsonLine;

async function readFileChecked(file: string): Promise<Buffer> {
  try {
    return await readLocalFile(file, MAX_FILE_BYTES);
  } catch (e) {
    if (e instanceof LocalFileError) throw new InputError(e.code);
    throw e;
  }
}

function findFfmpeg(): string | null {
  // LIVENESS_FFMPEG: a path to use, or "none" to behave as if ffmpeg were not installed
  const forced = process.env.LIVENESS_FFMPEG;
  if (forced) return forced === 'none' ? null : forced;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'ffmpeg'))) return path.join(dir, 'ffmpeg');
  }
  return existsSync('/usr/bin/ffmpeg') ? '/usr/bin/ffmpeg' : null;
}

/** Decode any video ffmpeg reads to y4m (≤ 640 px wide, first 20 s). */
async function viaFfmpeg(file: string): Promise<Buffer> {
  const ff = findFfmpeg();
  if (!ff) throw new InputError('FFMPEG_NOT_FOUND', 'only .y4m is read natively; install ffmpeg for other video formats');
  return new Promise((resolve, reject) => {
    const p = spawn(ff, ['-v', 'error', '-nostdin', '-t', '20', '-i', file, '-vf', "scale='min(640,iw)':-2", '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    p.stdout.on('data', (c: Buffer) => { size += c.length; if (size <= MAX_FILE_BYTES) chunks.push(c); });
    p.on('error', () => reject(new InputError('VIDEO_UNREADABLE')));
    p.on('close', (code) => (code === 0 && chunks.length ? resolve(Buffer.concat(chunks)) : reject(new InputError('VIDEO_UNREADABLE'))));
  });
}

interface Media { kind: 'image'; image: RgbImage; bytes: Buffer }
interface Video { kind: 'video'; frames: Frame[]; fps: number }

async function load(file: string): Promise<Media | Video> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.y4m' || VIDEO_EXT.has(ext)) {
    const buf = ext === '.y4m' ? await readFileChecked(file) : (await readFileChecked(file), await viaFfmpeg(file));
    let v;
    try {
      v = parseY4m(buf, { maxFrames: 600 });
    } catch (e) {
      throw new InputError('VIDEO_INVALID', (e as Error).message);
    }
    return { kind: 'video', fps: v.fps, frames: v.frames.map((image, i) => ({ image, t: Math.round((i * 1000) / v.fps) })) };
  }
  const bytes = await readFileChecked(file);
  try {
    return { kind: 'image', image: await decodeRgb(bytes), bytes };
  } catch {
    throw new InputError('IMAGE_INVALID');
  }
}

export async function runLiveness(argv: string[], io: LivenessCliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let o: Options;
  try {
    o = await parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) { stderr.write(`selfie-idp liveness: ${e.message}\n${USAGE}`); return 2; }
    throw e;
  }
  if (o.help) { stdout.write(USAGE); return 0; }
  if (o.newChallenge) { line(stdout, createChallenge(o.newChallenge)); return 0; }

  let engine: (FaceAnalyzer & { close?: () => Promise<void> }) | undefined = io.engine;
  let ownEngine = false;
  const getEngine = async (): Promise<FaceAnalyzer> => {
    if (!engine) {
      const { createFaceEngine } = await import('../face/index.ts');
      engine = await createFaceEngine({ poolSize: 1 });
      ownEngine = true;
    }
    return engine;
  };
  const faceIn = async (img: RgbImage, bytes?: Uint8Array): Promise<FaceGeometry | null> => {
    if (o.face) return { box: o.face };
    const e = await getEngine();
    try {
      const a = await e.analyze(bytes ?? (await encodePng(img)), { qualityGate: false, maxBytes: MAX_FILE_BYTES, minFaceSize: 32 });
      // the engine reports in original pixels; decodeRgb may have downscaled (> 1280 px)
      return { box: a.face.box, landmarks: a.face.landmarks };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code) return null;
      throw err;
    }
  };
  try {
    for (const file of o.files) {
      const t0 = performance.now();
      let r: LivenessResult;
      try {
        const m = await load(file);
        if (o.method === 'PASSIVE') {
          if (m.kind === 'image') {
            let face = await faceIn(m.image, m.bytes);
            if (face && !o.face) face = scaleFace(face, m.image, await originalSize(m.bytes));
            r = face ? passiveLiveness({ still: m.image, face }) : noFace('PASSIVE');
          } else {
            const ch = o.challenge?.method === 'PASSIVE' ? o.challenge : undefined;
            const mid = ch ? Math.min(ch.captureIndex, m.frames.length - 1) : Math.floor(m.frames.length / 2);
            const face = await faceIn(m.frames[mid]!.image);
            r = face ? passiveLiveness({ still: m.frames[mid]!.image, face, burst: m.frames, captureIndex: mid, screenPattern: ch?.pattern }) : noFace('PASSIVE');
          }
        } else {
          if (m.kind !== 'video') throw new InputError('VIDEO_REQUIRED', `${o.method} needs a recording (video) of the challenge`);
          const ch = o.challenge!;
          if (ch.method === 'FLASHING') {
            const mid = Math.floor(m.frames.length / 2);
            const face = await faceIn(m.frames[mid]!.image);
            r = face ? flashingLiveness({ challenge: ch, frames: m.frames, face }) : noFace('FLASHING');
          } else if (ch.method === 'ACTIVE_3D') {
            const e = await getEngine();
            const every = Math.max(1, Math.round(m.fps / ch.fps));
            const encoded = await Promise.all(m.frames.filter((_, i) => i % every === 0).map(async (f) => ({ bytes: await encodePng(f.image), t: f.t })));
            const samples = await analyzeRecording(e, encoded);
            r = active3dLiveness({ challenge: ch, samples });
          } else throw new InputError('CHALLENGE_MISMATCH', `the challenge file is for ${ch.method}, not ${o.method}`);
        }
      } catch (err) {
        if (err instanceof InputError) { line(stdout, { file, error: err.code }); continue; }
        throw err;
      }
      const out: Record<string, unknown> = {
        file, live: o.threshold === null ? r.live : !r.attack && r.score > o.threshold, score: r.score, method: r.method, warnings: r.warnings, ms: Math.round(performance.now() - t0),
      };
      if (o.verbose) out.signals = r.signals.map((s) => ({ signal: s.signal, applies: s.applies, score: s.score, reason: s.reason, details: s.details }));
      line(stdout, out);
    }
  } catch (err) {
    stderr.write(`selfie-idp liveness: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (ownEngine && engine?.close) await engine.close();
  }
  return 0;
}

function noFace(method: LivenessMethod): LivenessResult {
  const r = combine(method, [], 0);
  return { ...r, score: 0, live: false, attack: false, warnings: [livenessWarning('NO_FACE_DETECTED', 'error')] };
}

async function originalSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const { default: sharp } = await import('sharp');
  const m = await sharp(bytes).metadata();
  const swap = (m.orientation ?? 1) >= 5;
  return { width: (swap ? m.height : m.width) ?? 0, height: (swap ? m.width : m.height) ?? 0 };
}

/** The engine's box is in original (EXIF-oriented) pixels; the decoded image may be smaller. */
function scaleFace(face: FaceGeometry, img: RgbImage, orig: { width: number; height: number }): FaceGeometry {
  const s = orig.width ? img.width / orig.width : 1;
  if (Math.abs(s - 1) < 1e-3) return face;
  return {
    box: { x: face.box.x * s, y: face.box.y * s, width: face.box.width * s, height: face.box.height * s },
    landmarks: face.landmarks?.map((p) => ({ x: p.x * s, y: p.y * s })),
  };
}

