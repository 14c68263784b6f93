// A small worker-thread pool for liveness (PASSIVE bursts, FLASHING recordings, ACTIVE_3D tracks). Bounded queue: past `queueLimit` waiting jobs
// `run` rejects at once (BUSY) instead of growing memory; a job over `taskTimeoutMs` replaces its
// worker. Workers are unref'd: an idle pool never keeps the process alive.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Active3dChallenge, FlashingChallenge } from './challenge.ts';
import type { PoseSample } from './signals/active.ts';
import type { FaceGeometry, LivenessResult } from './types.ts';

type Jpeg = Uint8Array;

export type PassiveJob = {
  kind?: 'PASSIVE';
  still: Jpeg;
  frames: { bytes: Jpeg; t: number }[];
  face: FaceGeometry;
  captureIndex: number;
  /** The screen-light pattern the page showed (ScreenLightChallenge.pattern), when the workflow uses it. */
  screenPattern?: number[] | undefined;
};

/** A FLASHING recording; the challenge's use (fresh, single-use, in time) is checked by the caller. */
export type FlashingJob = {
  kind: 'FLASHING';
  challenge: FlashingChallenge;
  still: Jpeg;
  stillFace: FaceGeometry;
  frames: { bytes: Jpeg; t: number }[];
  /** The face in the recording's frames (frame pixels). */
  face: FaceGeometry;
  embeddings: Float32Array[];
  reference: Float32Array;
};

/** An ACTIVE_3D recording already analysed by the face engine (samples); the use is checked by the caller. */
export type Active3dJob = {
  kind: 'ACTIVE_3D';
  challenge: Active3dChallenge;
  still: Jpeg;
  stillFace: FaceGeometry;
  samples: PoseSample[];
  reference: Float32Array;
};

export type LivenessJob = PassiveJob | FlashingJob | Active3dJob;

export class LivenessBusyError extends Error {
  readonly code = 'BUSY';
  constructor() {
    super('liveness workers are busy');
  }
}

type Pending = { id: number; job: LivenessJob; resolve: (r: LivenessResult) => void; reject: (e: Error) => void };
type Slot = { worker: Worker; current: Pending | undefined; timer: NodeJS.Timeout | undefined };

const WORKER_URL = new URL('./worker.ts', import.meta.url);

export class LivenessPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  readonly #size: number;
  readonly #queueLimit: number;
  readonly #timeoutMs: number;
  readonly #workerUrl: URL;
  #nextId = 1;
  #closed = false;

  /**
   * `workerUrl`: the worker script (default: ./worker.ts). Benchmarks only: bench/verifier/
   * decode-only-worker.ts measures the upload without any signal (docs/liveness.md, "Cost").
   */
  constructor(options: { size?: number; queueLimit?: number; taskTimeoutMs?: number; workerUrl?: URL } = {}) {
    this.#size = Math.max(1, options.size ?? os.availableParallelism());
    this.#queueLimit = options.queueLimit ?? 32;
    this.#timeoutMs = options.taskTimeoutMs ?? 15_000;
    this.#workerUrl = options.workerUrl ?? WORKER_URL;
  }

  run(job: LivenessJob): Promise<LivenessResult> {
    if (this.#closed) return Promise.reject(new Error('liveness pool closed'));
    if (this.#queue.length >= this.#queueLimit) return Promise.reject(new LivenessBusyError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, resolve, reject });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(new Error('liveness pool closed'));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  #spawn(): Slot {
    // (the name is the thread's in the OS: `top -H`, /proc/<pid>/task/*/comm and the benches' per-thread CPU)
    const slot: Slot = { worker: new Worker(this.#workerUrl, { name: 'liveness' }), current: undefined, timer: undefined };
    slot.worker.unref();
    slot.worker.on('message', (msg: { id: number; ok: boolean; result?: LivenessResult; message?: string }) => {
      const p = slot.current;
      if (!p || p.id !== msg.id) return;
      this.#finish(slot);
      if (msg.ok) p.resolve(msg.result!);
      else p.reject(new Error(msg.message));
    });
    slot.worker.on('error', (err) => this.#replace(slot, err));
    slot.worker.on('exit', (code) => {
      if (!this.#closed && code !== 0) this.#replace(slot, new Error(`liveness worker exited with ${code}`));
    });
    this.#slots.push(slot);
    return slot;
  }

  #finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.current = undefined;
    slot.worker.unref();
    this.#dispatch();
  }

  #replace(slot: Slot, err: Error): void {
    const p = slot.current;
    clearTimeout(slot.timer);
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    void slot.worker.terminate();
    p?.reject(err);
    if (!this.#closed) this.#dispatch();
  }

  #dispatch(): void {
    while (this.#queue.length) {
      const slot = this.#slots.find((s) => !s.current) ?? (this.#slots.length < this.#size ? this.#spawn() : undefined);
      if (!slot) return;
      const p = this.#queue.shift()!;
      slot.current = p;
      // A busy worker keeps the process alive until its answer is back.
      slot.worker.ref();
      slot.timer = setTimeout(() => this.#replace(slot, new Error('liveness timed out')), this.#timeoutMs);
      slot.worker.postMessage({ id: p.id, job: p.job });
    }
  }
}
