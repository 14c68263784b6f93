/**
 * Buffers reused between analyses instead of allocated for each: a session's burst made ≈ 45 MB of
 * short-lived typed arrays (pyramids, summed-area tables, blur passes), and the collector's work on
 * them cost about as much CPU as a signal (the liveness worker's V8 helper threads: ≈ 30 ms per
 * session of ≈ 170). Only for what does not outlive the analysis that took it: everything here is
 * synchronous and one analysis runs at a time per thread.
 */

/**
 * A grown-on-demand scratch buffer of one typed-array kind (one user at a time, contents not kept).
 * `headroom`: grow to that many times the size asked, for sizes that vary a little between calls.
 */
export class Scratch<T extends Float32Array | Float64Array | Uint8Array> {
  #buf: T | undefined;
  readonly #make: (n: number) => T;
  readonly #headroom: number;

  constructor(make: (n: number) => T, headroom = 1) {
    this.#make = make;
    this.#headroom = headroom;
  }

  /** A view of n elements; its previous contents are left as they are. */
  take(n: number): T {
    if (!this.#buf || this.#buf.length < n) this.#buf = this.#make(Math.ceil(n * this.#headroom));
    return this.#buf.subarray(0, n) as T;
  }
}

/** A Float32 scratch buffer (blur passes, edge maps). */
export const scratchFloat32 = () => new Scratch((n) => new Float32Array(n));

/**
 * Zeroed Float32Arrays handed out during one analysis and taken back together by reset(): the k-th
 * take after a reset reuses the k-th buffer of the previous analysis when it is large enough (the
 * same burst sizes give the same sequence of sizes).
 */
export class Float32Arena {
  readonly #pool: Float32Array[] = [];
  #next = 0;

  take(n: number): Float32Array {
    let b = this.#pool[this.#next];
    if (!b || b.length < n) { b = new Float32Array(n); this.#pool[this.#next] = b; }
    this.#next++;
    const v = b.subarray(0, n);
    v.fill(0);
    return v;
  }

  /** Every buffer handed out since the last reset may be handed out again. */
  reset(): void {
    this.#next = 0;
  }
}
