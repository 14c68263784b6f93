// Brute-force nearest-neighbour search over unit vectors: one Float32Array, rows packed, the dot
// product of each row with the probe. Exact (no approximation to reason about), and at 512
// dimensions fast enough for one machine's worth of accounts (docs/face-engine.md, "1:N search").
// Removal moves the last row into the hole, so the rows stay packed.

export type Hit<M> = { key: string; meta: M; cosine: number };

export class FlatIndex<M> {
  readonly dim: number;
  #rows: Float32Array;
  #keys: string[] = [];
  #meta: M[] = [];
  #slot = new Map<string, number>();

  constructor(dim: number, capacity = 1024) {
    this.dim = dim;
    this.#rows = new Float32Array(dim * Math.max(1, capacity));
  }

  get size(): number {
    return this.#keys.length;
  }

  has(key: string): boolean {
    return this.#slot.has(key);
  }

  metaOf(key: string): M | undefined {
    const i = this.#slot.get(key);
    return i === undefined ? undefined : this.#meta[i];
  }

  *entries(): IterableIterator<[string, M]> {
    for (let i = 0; i < this.#keys.length; i++) yield [this.#keys[i]!, this.#meta[i]!];
  }

  /** Insert or replace; the vector is normalised here (a zero or non-finite one is refused). */
  upsert(key: string, vector: ArrayLike<number>, meta: M): void {
    if (vector.length !== this.dim) throw new RangeError(`vector has ${vector.length} values, the index ${this.dim}`);
    let norm = 0;
    for (let j = 0; j < this.dim; j++) norm += vector[j]! * vector[j]!;
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !Number.isFinite(norm)) throw new RangeError('vector is zero or not finite');
    let i = this.#slot.get(key);
    if (i === undefined) {
      i = this.#keys.length;
      if ((i + 1) * this.dim > this.#rows.length) {
        const grown = new Float32Array(Math.max(this.#rows.length * 2, (i + 1) * this.dim));
        grown.set(this.#rows);
        this.#rows = grown;
      }
      this.#keys.push(key);
      this.#meta.push(meta);
      this.#slot.set(key, i);
    } else this.#meta[i] = meta;
    const base = i * this.dim;
    for (let j = 0; j < this.dim; j++) this.#rows[base + j] = vector[j]! / norm;
  }

  remove(key: string): boolean {
    const i = this.#slot.get(key);
    if (i === undefined) return false;
    const last = this.#keys.length - 1;
    if (i !== last) {
      this.#rows.copyWithin(i * this.dim, last * this.dim, (last + 1) * this.dim);
      this.#keys[i] = this.#keys[last]!;
      this.#meta[i] = this.#meta[last]!;
      this.#slot.set(this.#keys[i]!, i);
    }
    // The vacated row is zeroed: a removed face's numbers do not linger in memory.
    this.#rows.fill(0, last * this.dim, (last + 1) * this.dim);
    this.#keys.pop();
    this.#meta.pop();
    this.#slot.delete(key);
    return true;
  }

  clear(): void {
    this.#rows.fill(0);
    this.#keys = [];
    this.#meta = [];
    this.#slot.clear();
  }

  /**
   * The row most similar to `probe` (a unit vector) among those `accept` lets through, or null;
   * only rows [from, to) when given (a caller searching in slices, to yield between them).
   */
  best(probe: ArrayLike<number>, accept: (meta: M) => boolean = () => true, from = 0, to = this.#keys.length): Hit<M> | null {
    if (probe.length !== this.dim) throw new RangeError(`probe has ${probe.length} values, the index ${this.dim}`);
    const q = probe instanceof Float32Array ? probe : Float32Array.from(probe);
    const rows = this.#rows;
    const dim = this.dim;
    let bestI = -1;
    let bestDot = -Infinity;
    for (let i = Math.max(0, from), n = Math.min(to, this.#keys.length); i < n; i++) {
      const dot = dotAt(rows, i * dim, q, dim);
      if (dot > bestDot && accept(this.#meta[i]!)) {
        bestDot = dot;
        bestI = i;
      }
    }
    return bestI < 0 ? null : { key: this.#keys[bestI]!, meta: this.#meta[bestI]!, cosine: bestDot };
  }
}

/** Dot product of rows[base .. base+dim) with q: four running sums (dim is a multiple of 4 here). */
function dotAt(rows: Float32Array, base: number, q: Float32Array, dim: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    s0 += rows[base + j]! * q[j]!;
    s1 += rows[base + j + 1]! * q[j + 1]!;
    s2 += rows[base + j + 2]! * q[j + 2]!;
    s3 += rows[base + j + 3]! * q[j + 3]!;
  }
  for (; j < dim; j++) s0 += rows[base + j]! * q[j]!;
  return s0 + s1 + s2 + s3;
}
