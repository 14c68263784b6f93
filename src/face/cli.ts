/**
 * `selfie-idp compare` and `selfie-idp analyze` (dispatched by src/cli.ts). Output is a contract:
 *
 *   compare A B            → {"a","b","similarity","score","decision","match","threshold","ms"}
 *   compare --pairs FILE   → one such line per `pathA<TAB>pathB` line, in input order; a failed pair
 *                            prints {"a","b","error":"NO_FACE_DETECTED"} (or another code) and the run goes on
 *   analyze IMG...         → one line per image: {"file","image","faces":[...],"ms"} or {"file","error"}
 *
 * A path that cannot be read gives error FILE_NOT_FOUND or FILE_UNREADABLE; the others are FaceError codes.
 * Exit 0 when the run completed (whatever the per-image outcomes), 2 on bad usage, 1 if the engine
 * could not start. Models load once per run; each distinct image is analysed once per run.
 * `ms` of a compare line is the engine time of its two analyses (a reused analysis counts its own time).
 * Embeddings and image content are never printed.
 */
import { eachArg, jsonLine, LocalFileError, readLocalFile } from '../cli-io.ts';
import { UsageError } from '../usage-error.ts';
import fs from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { compare, DEFAULT_THRESHOLDS, validateThresholds, type Thresholds } from './compare.ts';
import { FaceError } from './errors.ts';
import { createFaceEngine, type FaceEngine } from './index.ts';
import { qualityIssue } from './quality.ts';
import { CLI_MAX_BYTES } from './sniff.ts';
import type { AnalyzeOptions, FaceAnalysis } from './types.ts';

export interface CliIo {
  stdout?: Writable;
  stderr?: Writable;
  /** Worker threads for this run (default: cores). */
  poolSize?: number;
  /** Use this engine instead of starting one (it is not closed at the end). */
  engine?: FaceEngine;
}

const COMPARE_USAGE = `usage: selfie-idp compare [options] IMAGE_A IMAGE_B
       selfie-idp compare [options] --pairs FILE     (lines: pathA<TAB>pathB)
options: --review N --decline N   thresholds, score 0-100 (default ${DEFAULT_THRESHOLDS.review} / ${DEFAULT_THRESHOLDS.decline})
         --no-quality-gate        do not refuse dark, flat, blurred or turned faces
`;
const ANALYZE_USAGE = `usage: selfie-idp analyze [--no-quality-gate] IMAGE...
`;



interface Parsed {
  positional: string[];
  pairs: string | undefined;
  thresholds: Thresholds;
  qualityGate: boolean;
  help: boolean;
}

function parseArgs(argv: readonly string[], allowPairs: boolean): Parsed {
  const out: Parsed = { positional: [], pairs: undefined, thresholds: { ...DEFAULT_THRESHOLDS }, qualityGate: true, help: false };
  for (const { arg: a, value, rest } of eachArg(argv)) {
    const num = (): number => {
      const v = Number(value());
      if (!Number.isFinite(v)) throw new UsageError(`${a} needs a number`);
      return v;
    };
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--pairs' && allowPairs) out.pairs = value();
    else if (a === '--review' && allowPairs) out.thresholds.review = num();
    else if (a === '--decline' && allowPairs) out.thresholds.decline = num();
    else if (a === '--no-quality-gate') out.qualityGate = false;
    else if (a === '--') out.positional.push(...rest());
    else if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option ${a}`);
    else out.positional.push(a);
  }
  try {
    validateThresholds(out.thresholds);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return out;
}

const line = jsonLine;

type Outcome = { ok: true; analysis: FaceAnalysis } | { ok: false; code: string; measure?: string };

async function readImage(file: string): Promise<Uint8Array> {
  try {
    return await readLocalFile(file, CLI_MAX_BYTES);
  } catch (e) {
    // Too large is the engine's own code for an oversized image.
    if (e instanceof LocalFileError && e.code === 'FILE_TOO_LARGE') throw new FaceError('IMAGE_TOO_LARGE', `file over ${CLI_MAX_BYTES} bytes`);
    throw e;
  }
}

/** Runs analyses with bounded concurrency (enough to keep every worker busy, never BUSY). */
function makeAnalyser(engine: FaceEngine, opts: AnalyzeOptions, concurrency: number): (file: string) => Promise<Outcome> {
  const cache = new Map<string, Promise<Outcome>>();
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async (): Promise<void> => {
    if (running < concurrency) { running++; return; }
    await new Promise<void>((r) => waiting.push(r));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next(); else running--;
  };
  return (file) => {
    let p = cache.get(file);
    if (!p) {
      p = (async (): Promise<Outcome> => {
        await slot();
        try {
          const bytes = await readImage(file);
          return { ok: true, analysis: await engine.analyze(bytes, opts) };
        } catch (e) {
          if (e instanceof FaceError) return e.measure ? { ok: false, code: e.code, measure: e.measure } : { ok: false, code: e.code };
          if (e instanceof LocalFileError) return { ok: false, code: e.code };
          return { ok: false, code: 'ENGINE_FAILURE' };
        } finally {
          release();
        }
      })();
      cache.set(file, p);
    }
    return p;
  };
}

async function startEngine(io: CliIo, stderr: Writable): Promise<FaceEngine | undefined> {
  if (io.engine) return io.engine;
  try {
    return await createFaceEngine({ ...(io.poolSize ? { poolSize: io.poolSize } : {}), queueLimit: 1024 });
  } catch (e) {
    stderr.write(`face engine failed to start: ${(e as Error).message}\n`);
    return undefined;
  }
}

async function readPairs(file: string): Promise<Array<[string, string]>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read pairs file ${file}`);
  }
  const pairs: Array<[string, string]> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (!raw.trim() || raw.startsWith('#')) return;
    const cols = raw.split('\t');
    if (cols.length !== 2 || !cols[0] || !cols[1]) throw new UsageError(`${file}:${i + 1}: expected pathA<TAB>pathB`);
    pairs.push([cols[0], cols[1]]);
  });
  return pairs;
}

/** `selfie-idp compare ...`; resolves to the exit code. */
export async function runCompare(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let args: Parsed;
  let pairs: Array<[string, string]>;
  try {
    args = parseArgs(argv, true);
    if (args.help) { stdout.write(COMPARE_USAGE); return 0; }
    if (args.pairs !== undefined) {
      if (args.positional.length) throw new UsageError('--pairs takes no image arguments');
      pairs = await readPairs(args.pairs);
    } else {
      if (args.positional.length !== 2) throw new UsageError('compare needs exactly two images');
      pairs = [[args.positional[0]!, args.positional[1]!]];
    }
  } catch (e) {
    if (e instanceof UsageError) { stderr.write(`${e.message}\n${COMPARE_USAGE}`); return 2; }
    throw e;
  }
  const engine = await startEngine(io, stderr);
  if (!engine) return 1;
  try {
    const analyse = makeAnalyser(engine, { maxBytes: CLI_MAX_BYTES, qualityGate: args.qualityGate }, engine.stats().size * 2);
    // Schedule every distinct image in first-appearance order, then print pairs in input order.
    for (const [a, b] of pairs) { void analyse(a); void analyse(b); }
    for (const [a, b] of pairs) {
      const [ra, rb] = await Promise.all([analyse(a), analyse(b)]);
      if (!ra.ok || !rb.ok) {
        const bad = !ra.ok ? ra : (rb as Extract<Outcome, { ok: false }>);
        line(stdout, bad.measure ? { a, b, error: bad.code, measure: bad.measure } : { a, b, error: bad.code });
        continue;
      }
      try {
        const r = compare(ra.analysis, rb.analysis, args.thresholds);
        line(stdout, { a, b, similarity: r.similarity, score: r.score, decision: r.decision, match: r.match, threshold: r.threshold, ms: ra.analysis.ms + rb.analysis.ms });
      } catch (e) {
        line(stdout, { a, b, error: e instanceof FaceError ? e.code : 'ENGINE_FAILURE' });
      }
    }
    return 0;
  } finally {
    if (engine !== io.engine) await engine.close();
  }
}

/** `selfie-idp analyze IMG...`; resolves to the exit code. */
export async function runAnalyze(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let args: Parsed;
  try {
    args = parseArgs(argv, false);
    if (args.help) { stdout.write(ANALYZE_USAGE); return 0; }
    if (!args.positional.length) throw new UsageError('analyze needs at least one image');
  } catch (e) {
    if (e instanceof UsageError) { stderr.write(`${e.message}\n${ANALYZE_USAGE}`); return 2; }
    throw e;
  }
  const engine = await startEngine(io, stderr);
  if (!engine) return 1;
  try {
    // The gate is applied here rather than in the engine so that the measures are printed even when refused.
    const analyse = makeAnalyser(engine, { maxBytes: CLI_MAX_BYTES, qualityGate: false }, engine.stats().size * 2);
    for (const f of args.positional) void analyse(f);
    for (const file of args.positional) {
      const r = await analyse(file);
      if (!r.ok) {
        line(stdout, r.measure ? { file, error: r.code, measure: r.measure } : { file, error: r.code });
        continue;
      }
      const a = r.analysis;
      const out: Record<string, unknown> = {
        file,
        image: a.image,
        faces: [
          {
            dominant: true,
            box: a.face.box,
            score: a.face.score,
            pose: a.face.pose,
            quality: a.face.quality,
            landmarks: a.face.landmarks.map((p) => [p.x, p.y]),
          },
          ...a.otherFaces.map((o) => ({ dominant: false, box: o.box, score: o.score })),
        ],
        model: a.model,
        ms: a.ms,
      };
      const issue = args.qualityGate ? qualityIssue(a.face.quality, a.face.pose) : undefined;
      if (issue) {
        out.error = issue.code;
        out.measure = issue.measure;
      }
      line(stdout, out);
    }
    return 0;
  } finally {
    if (engine !== io.engine) await engine.close();
  }
}
