// What the capture page uploads to a LIVENESS (PASSIVE) workflow, for the benchmarks: a synthetic
// bona fide session (test/synthetic) of one identity as still + burst, as multipart/form-data
// (docs/verifier.md, "Capture upload"). A single JPEG is declined by such a workflow. With screen
// light (the shipped PASSIVE workflows) the page first asks for its light pattern and the burst is
// recorded under it: `screenLightAnswer` renders the session for the issued challenge (≈ 1 s of CPU,
// the "user's time": the benchmarks render before their clock runs).
import { fork, type ChildProcess } from 'node:child_process';
import type { FaceAnalysis } from '../src/face/index.ts';
import { createChallenge, decodeFrames, decodeRgb, passiveLiveness, type ScreenLightChallenge } from '../src/liveness/index.ts';
import { seededRng } from '../src/liveness/rng.ts';
import { generatePassiveSample } from '../test/synthetic/generate.ts';
import { loadFaceSources } from '../test/synthetic/head.ts';

import type { BurstUpload } from '../test/helpers/verifier.ts';
// One definition of the upload format, shared with the tests.
export { burstForm, type BurstUpload } from '../test/helpers/verifier.ts';

export async function render(identity: string, seed: number, pattern?: readonly number[]): Promise<BurstUpload> {
  const faces = (await loadFaceSources()).filter((f) => f.identity === identity);
  const s = await generatePassiveSample('bona_fide', seed, faces, pattern ? { screenLight: { pattern } } : {});
  return { still: s.stillJpeg!, frames: s.burstJpeg!, times: s.burst.map((f) => Math.round(f.t - s.burst[0]!.t)), captureIndex: s.captureIndex };
}

/** A live bona fide session of `identity` with `seed`, and the seed (for screenLightAnswer). */
export type LiveBurst = BurstUpload & { seed: number };

/**
 * The first bona fide seed of `identity` that the face engine accepts and PASSIVE judges live (a few
 * percent of genuine synthetic sessions are not: the benchmark measures latency, not BPCER); with
 * `screenLight`, live under three fixed patterns as well. The upload returned has no screen light.
 */
export async function liveBurst(face: { analyze(bytes: Uint8Array): Promise<FaceAnalysis> }, identity: string, opts: { seeds?: number; screenLight?: boolean } = {}): Promise<LiveBurst> {
  const seeds = opts.seeds ?? 12;
  const patterns: (number[] | undefined)[] = [undefined];
  if (opts.screenLight) for (let k = 1; k <= 3; k++) patterns.push(createChallenge('PASSIVE', seededRng(k)).pattern);
  for (let seed = 1; seed <= seeds; seed++) {
    try {
      let plain: BurstUpload | undefined;
      let live = true;
      for (const pattern of patterns) {
        const upload = await render(identity, seed, pattern);
        plain ??= upload;
        const a = await face.analyze(upload.still);
        const burst = await decodeFrames(upload.frames.map((bytes, i) => ({ bytes, t: upload.times[i]! })));
        const r = passiveLiveness({ still: await decodeRgb(upload.still), face: { box: a.face.box, landmarks: a.face.landmarks }, burst, captureIndex: upload.captureIndex, screenPattern: pattern });
        if (!r.live) { live = false; break; }
      }
      if (live) return { ...plain!, seed };
    } catch {
      /* the engine refused this rendering: next seed */
    }
  }
  throw new Error(`no live bona fide burst of ${identity} in seeds 1-${seeds}`);
}

/** The page's upload for a screen-light challenge: the session of `identity`/`seed` recorded under its pattern, naming it. */
export async function screenLightAnswer(identity: string, seed: number, challenge: ScreenLightChallenge): Promise<BurstUpload> {
  // call it as the challenge arrives: it returns no sooner than the page's burst would end (the
  // server refuses an answer before the pattern could have been shown)
  const until = Date.now() + challenge.frames * challenge.intervalMs;
  const answer = { ...(await render(identity, seed, challenge.pattern)), challengeId: challenge.id };
  const wait = until - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return answer;
}

/**
 * screenLightAnswer with the rendering in a child process (bench/render-child.ts): the login
 * benchmarks account every thread of their own process, and the rendering's CPU and garbage (its
 * collections would otherwise fall into the timed part) stay out of it. Same bytes, same wait.
 */
export class ApartRenderer {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (u: BurstUpload) => void; reject: (e: Error) => void }>();
  #next = 0;

  constructor() {
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof'));
    this.#child = fork(new URL('./render-child.ts', import.meta.url), [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: { id: number; upload?: BurstUpload; error?: string }) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.upload) p?.resolve({ ...m.upload, still: Buffer.from(m.upload.still), frames: m.upload.frames.map((f) => Buffer.from(f)) });
      else p?.reject(new Error(m.error ?? 'render failed'));
    });
    this.#child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`renderer exited (${code})`));
      this.#pending.clear();
    });
  }

  async answer(identity: string, seed: number, challenge: ScreenLightChallenge): Promise<BurstUpload> {
    const until = Date.now() + challenge.frames * challenge.intervalMs;
    const id = this.#next++;
    const upload = await new Promise<BurstUpload>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, identity, seed, pattern: challenge.pattern });
    });
    const wait = until - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return { ...upload, challengeId: challenge.id };
  }

  close(): void {
    this.#child.disconnect();
  }
}
