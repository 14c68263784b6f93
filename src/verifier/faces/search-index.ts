// The 1:N face search of one verifier instance: every enrolled template and every blocklisted
// face, decrypted once (at start, or when the change log says it changed) into two FlatIndexes
// in memory, so a search never decrypts a template. Kept in step with the store, and so with
// every other instance, by the change log (changes.ts): before each search, and every few seconds
// on its own so that an erased face leaves an idle instance's memory too.
import { EMBEDDING_SIZE, isFaceError, MODEL, openTemplate, sameModel, similarityFromCosine } from '../../face/index.ts';
import type { TemplateKeyring } from '../../face/index.ts';
import type { Logger } from '../../logger.ts';
import type { Store } from '../../store/index.ts';
import { K } from '../keys.ts';
import { loadTemplate } from '../templates.ts';
import { loadBlocklistEntry } from './blocklist.ts';
import type { FaceKind, FaceRefRecord } from './changes.ts';
import { FlatIndex, type Hit } from './flat-index.ts';

/** Rows scanned between two yields to the event loop (~5 MB of vectors). */
const SLICE = 2500;

export type EnrolledFace = { vendor_data: string; source_session_id: string | null };
export type BlockedFace = { entry_id: string; session_id: string | null; vendor_data: string | null };
export type FaceHit<M> = { meta: M; score: number };

export type FaceIndexOptions = {
  /** How often an idle instance catches up on its own (default 5 s; 0: never). */
  pollMs?: number;
  /** A missing log entry older than this is taken as lost, and the index is rebuilt (default 2 s). */
  gapGraceMs?: number;
  /** Further behind than this many changes, rebuilding is cheaper than replaying (default 5,000). */
  maxReplay?: number;
  log?: Logger;
};

/** Score (0–100, as compare() gives) of a cosine of the current model. */
export const scoreOfCosine = (cos: number): number => Math.round(similarityFromCosine(cos, MODEL) * 10000) / 100;

export class FaceSearchIndex {
  readonly enrolled = new FlatIndex<EnrolledFace>(EMBEDDING_SIZE);
  readonly blocked = new FlatIndex<BlockedFace>(EMBEDDING_SIZE);
  readonly #store: Store;
  readonly #keyring: TemplateKeyring;
  readonly #opts: Required<Omit<FaceIndexOptions, 'log'>> & { log?: Logger };
  #seen = 0;
  #gap: { n: number; since: number } | null = null;
  #running: Promise<void> | null = null;
  #ready: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Full builds so far (the start, and any rebuild after a gap): for tests and the log. */
  builds = 0;

  constructor(store: Store, keyring: TemplateKeyring, options: FaceIndexOptions = {}) {
    this.#store = store;
    this.#keyring = keyring;
    this.#opts = { pollMs: options.pollMs ?? 5000, gapGraceMs: options.gapGraceMs ?? 2000, maxReplay: options.maxReplay ?? 5000, ...(options.log ? { log: options.log } : {}) };
  }

  /** Build from the store (in the background: a search waits for it) and start polling. */
  start(): Promise<void> {
    this.#ready ??= this.#exclusive(() => this.#rebuild()).catch((err: unknown) => {
      // Not cached: the next search tries again.
      this.#ready = null;
      throw err;
    });
    if (this.#opts.pollMs > 0 && !this.#timer) {
      this.#timer = setInterval(() => {
        this.sync().catch((err: unknown) => this.#opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'face index: catching up failed; retrying'));
      }, this.#opts.pollMs);
      this.#timer.unref();
    }
    return this.#ready;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.enrolled.clear();
    this.blocked.clear();
  }

  /** Catch up with the store's change log (one read when nothing changed). */
  async sync(): Promise<void> {
    await this.start();
    await this.#exclusive(() => this.#catchUp());
  }

  /** The enrolled face most like `probe` other than `exceptVendor`'s, if its score is above `above`. */
  async searchEnrolled(probe: ArrayLike<number>, above: number, exceptVendor: string | null): Promise<FaceHit<EnrolledFace> | null> {
    return this.#search(this.enrolled, probe, above, (m) => m.vendor_data !== exceptVendor);
  }

  /** The blocklisted face most like `probe`, if its score is above `above`. */
  async searchBlocked(probe: ArrayLike<number>, above: number): Promise<FaceHit<BlockedFace> | null> {
    return this.#search(this.blocked, probe, above, () => true);
  }

  async #search<M>(index: FlatIndex<M>, probe: ArrayLike<number>, above: number, accept: (meta: M) => boolean): Promise<FaceHit<M> | null> {
    await this.sync();
    let best: Hit<M> | null = null;
    // Under the same turn as catch-ups (nothing moves a row mid-search), in slices with a yield
    // between them: at 100,000 faces a whole scan is tens of ms of CPU that requests should not
    // wait behind (docs/face-engine.md, "1:N search").
    await this.#exclusive(async () => {
      const q = Float32Array.from(probe);
      for (let from = 0; from < index.size; from += SLICE) {
        if (from > 0) await new Promise((r) => setImmediate(r));
        const hit = index.best(q, accept, from, from + SLICE);
        if (hit && (!best || hit.cosine > best.cosine)) best = hit;
      }
    });
    const found = best as Hit<M> | null;
    if (!found) return null;
    const score = scoreOfCosine(found.cosine);
    return score > above ? { meta: found.meta, score } : null;
  }

  // One build or catch-up at a time; concurrent callers share the one in flight.
  async #exclusive(work: () => Promise<void>): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
    const run = work();
    this.#running = run;
    try {
      await run;
    } finally {
      if (this.#running === run) this.#running = null;
    }
  }

  async #version(): Promise<number> {
    return Number((await this.#store.get<number | string>(K.faceVersion())) ?? 0);
  }

  async #rebuild(): Promise<void> {
    const started = performance.now();
    // The version first: anything changed while the set is read is replayed after.
    const version = await this.#version();
    const refs = await this.#store.indexMembers(K.faces());
    this.enrolled.clear();
    this.blocked.clear();
    for (const ref of refs) await this.#apply(ref);
    this.#seen = version;
    this.#gap = null;
    this.builds++;
    this.#opts.log?.info({ enrolled: this.enrolled.size, blocked: this.blocked.size, ms: Math.round(performance.now() - started) }, 'face index built');
  }

  async #catchUp(): Promise<void> {
    const version = await this.#version();
    if (version === this.#seen) return;
    // The counter went back (a store emptied or restored) or we are too far behind: start over.
    if (version < this.#seen || version - this.#seen > this.#opts.maxReplay) return this.#rebuild();
    for (let n = this.#seen + 1; n <= version; n++) {
      const ref = await this.#store.get<string>(K.faceChange(n));
      if (ref === undefined) {
        // Written a moment from now by a writer between its bump and its entry, or lost for good.
        const now = Date.now();
        if (this.#gap?.n !== n) this.#gap = { n, since: now };
        if (now - this.#gap.since >= this.#opts.gapGraceMs) return this.#rebuild();
        return;
      }
      await this.#apply(ref);
      this.#seen = n;
    }
    this.#gap = null;
  }

  /** Bring one ref in line with the store: loaded (decrypted) if it exists, dropped if not. */
  async #apply(ref: string): Promise<void> {
    const what = await this.#store.get<FaceRefRecord>(K.faceRef(ref));
    const drop = () => {
      this.enrolled.remove(ref);
      this.blocked.remove(ref);
    };
    if (!what) return drop();
    try {
      if (what.kind === 'enrolled') {
        const stored = await loadTemplate(this.#store, what.id);
        const vector = stored && this.#vector(stored.sealed);
        if (!stored || !vector) return drop();
        this.enrolled.upsert(ref, vector, { vendor_data: what.id, source_session_id: stored.source_session_id });
      } else {
        const entry = await loadBlocklistEntry(this.#store, what.id);
        const vector = entry && this.#vector(entry.sealed);
        if (!entry || !vector) return drop();
        this.blocked.upsert(ref, vector, { entry_id: entry.entry_id, session_id: entry.session_id, vendor_data: entry.vendor_data });
      }
    } catch (err) {
      if (!isFaceError(err)) throw err;
      // Sealed under a key no longer configured, or tampered with: it cannot be searched.
      this.#opts.log?.warn({ kind: what.kind satisfies FaceKind, code: err.code }, 'face index: a stored face could not be opened; left out of the 1:N search');
      drop();
    }
  }

  /** The current-model embedding of a sealed template; null for the previous model's (128-d, another space). */
  #vector(sealed: string): Float32Array | null {
    const t = openTemplate(sealed, this.#keyring);
    return sameModel(t.model, MODEL) ? t.embedding : null;
  }
}
