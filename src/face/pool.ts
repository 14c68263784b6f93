/**
 * Worker-thread pool for face analysis: the HTTP event loop never runs a model.
 * - `size` workers (default: available cores), each loads the models and warms up before `create` resolves.
 * - At most `queueLimit` requests wait; beyond that `run` rejects at once with FaceError('BUSY').
 * - A worker that crashes or exceeds `taskTimeoutMs` is replaced; its request fails with ENGINE_FAILURE.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { FaceError, type SerializedFaceError } from './errors.ts';
import { DEFAULT_MAX_BYTES, precheck } from './sniff.ts';
import type { AnalyzeOptions, FaceAnalysis } from './types.ts';

export interface PoolOptions {
  /** Number of worker threads. Default: os.availableParallelism(). */
  size?: number;
  /** Requests allowed to wait for a free worker. Default 32. */
  queueLimit?: number;
  /** A request running longer than this kills its worker. Default 30 s. */
  taskTimeoutMs?: number;
}

export interface PoolStats {
  size: number;
  ready: number;
  busy: number;
  queued: number;
  queueLimit: number;
  completed: number;
  rejectedBusy: number;
  restarts: number;
  /** Longest worker start-up (model load + warm-up), ms. */
  startupMs: number;
}

interface Task {
  id: number;
  bytes: Uint8Array;
  opts: AnalyzeOptions;
  resolve: (a: FaceAnalysis) => void;
  reject: (e: FaceError) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

type WorkerMessage =
  | { type: 'ready'; loadMs: number; warmMs: number; backend: string }
  | { type: 'result'; id: number; analysis: FaceAnalysis }
  | { type: 'error'; id: number; error: SerializedFaceError }
  | { type: 'fatal'; message: string };

const WORKER_URL = new URL('./worker.ts', import.meta.url);

export class FacePool {
  readonly size: number;
  readonly queueLimit: number;
  readonly taskTimeoutMs: number;
  #slots: Slot[] = [];
  #queue: Task[] = [];
  #nextId = 1;
  #closed = false;
  #completed = 0;
  #rejectedBusy = 0;
  #restarts = 0;
  #startupMs = 0;

  private constructor(opts: PoolOptions) {
    this.size = Math.max(1, Math.floor(opts.size ?? os.availableParallelism()));
    this.queueLimit = Math.max(0, Math.floor(opts.queueLimit ?? 32));
    this.taskTimeoutMs = opts.taskTimeoutMs ?? 30_000;
  }

  /** Start the workers and wait until every one has loaded its models and warmed up. */
  static async create(opts: PoolOptions = {}): Promise<FacePool> {
    const pool = new FacePool(opts);
    try {
      await Promise.all(Array.from({ length: pool.size }, () => pool.#spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  #spawn(): Promise<void> {
    const started = performance.now();
    // A small young generation keeps each worker's resident memory down (~15 MB each); requests
    // allocate a few MB of short-lived buffers, so the extra scavenges cost well under a millisecond.
    // onnxruntime threads per worker: the workers already use the cores in parallel, so each gets its
    // share (1 on 2 cores with 2 workers); more would only make them preempt each other.
    const threads = Math.max(1, Math.floor(os.availableParallelism() / this.size));
    // (the name is the thread's in the OS: `top -H`, /proc/<pid>/task/*/comm and the benches' per-thread CPU)
    const worker = new Worker(WORKER_URL, { name: 'face-engine', resourceLimits: { maxYoungGenerationSizeMb: 4 }, workerData: { threads } });
    const slot: Slot = { worker, ready: false, task: undefined, timer: undefined };
    this.#slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        switch (msg.type) {
          case 'ready':
            slot.ready = true;
            this.#startupMs = Math.max(this.#startupMs, Math.round(performance.now() - started));
            resolve();
            this.#pump();
            break;
          case 'fatal':
            reject(new FaceError('ENGINE_FAILURE', `face worker failed to start: ${msg.message}`));
            break;
          case 'result':
          case 'error': {
            const task = slot.task;
            if (!task || task.id !== msg.id) return;
            this.#finish(slot);
            if (msg.type === 'result') {
              this.#completed++;
              task.resolve(msg.analysis);
            } else {
              task.reject(FaceError.fromJSON(msg.error));
            }
            this.#pump();
            break;
          }
        }
      });
      worker.on('error', (err) => {
        if (!slot.ready) reject(new FaceError('ENGINE_FAILURE', `face worker failed to start: ${err.message}`));
      });
      worker.on('exit', () => this.#onExit(slot));
    });
  }

  #finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
  }

  #onExit(slot: Slot): void {
    const task = slot.task;
    const wasReady = slot.ready;
    this.#finish(slot);
    this.#slots = this.#slots.filter((s) => s !== slot);
    task?.reject(new FaceError('ENGINE_FAILURE', 'face worker stopped while analysing'));
    if (!this.#closed && wasReady) {
      this.#restarts++;
      this.#spawn().catch(() => { /* a replacement that cannot start leaves the pool smaller */ });
    }
  }

  #pump(): void {
    while (this.#queue.length) {
      const slot = this.#slots.find((s) => s.ready && !s.task);
      if (!slot) return;
      const task = this.#queue.shift()!;
      slot.task = task;
      slot.timer = setTimeout(() => { void slot.worker.terminate(); }, this.taskTimeoutMs);
      slot.timer.unref();
      slot.worker.postMessage({ type: 'analyze', id: task.id, bytes: task.bytes, opts: task.opts }, [task.bytes.buffer as ArrayBuffer]);
    }
  }

  /** Analyse one image in a worker. Rejects with FaceError (BUSY when the queue is full). */
  run(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    if (this.#closed) return Promise.reject(new FaceError('ENGINE_FAILURE', 'face engine closed'));
    try {
      precheck(bytes, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    } catch (e) {
      return Promise.reject(e);
    }
    const idle = this.#slots.some((s) => s.ready && !s.task);
    if (!idle && this.#queue.length >= this.queueLimit) {
      this.#rejectedBusy++;
      return Promise.reject(new FaceError('BUSY', 'face engine busy, retry later'));
    }
    // Copy so the caller's buffer is not detached by the transfer.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Promise<FaceAnalysis>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, bytes: copy, opts: { ...opts }, resolve, reject });
      this.#pump();
    });
  }

  stats(): PoolStats {
    return {
      size: this.size,
      ready: this.#slots.filter((s) => s.ready).length,
      busy: this.#slots.filter((s) => s.task).length,
      queued: this.#queue.length,
      queueLimit: this.queueLimit,
      completed: this.#completed,
      rejectedBusy: this.#rejectedBusy,
      restarts: this.#restarts,
      startupMs: this.#startupMs,
    };
  }

  /** Stop all workers; waiting and running requests fail with ENGINE_FAILURE. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#queue.splice(0)) t.reject(new FaceError('ENGINE_FAILURE', 'face engine closed'));
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
