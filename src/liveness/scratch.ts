/**
 * Buffers reused between analyses instead of allocated for each: a session's burst made ≈ 45 MB of
 * short-lived typed arrays (pyramids, summed-area tables, blur passes), and the collector's work on
 * them cost about as much CPU as a signal (the liveness worker's V8 helper threads: ≈ 30 ms per
 * session of ≈ 170). Only for what does not outlive the analysis that took it: everything here is
 * synchronous and one analysis runs at a time per thread.
 */

/** A grown-on-demand scratch buffer (one user at a time, contents not kept). */
export class ScratchFloat32 {
  #buf = new Float32Array(0);
  /** A view of n elements; its previous contents are left as they are. */
  take(n: number): Float32Array {
    if (this.#buf.length < n) this.#buf = new Float32Array(n);
    return this.#buf.subarray(0, n);
  }
}

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
