/** Seeded PRNG (sfc32) and the random helpers shared by challenges and the synthetic generator. */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** Deterministic generator from a 32-bit seed (for the synthetic data and tests). */
export function seededRng(seed: number): Rng {
  let a = 0x9e3779b9 ^ seed, b = 0x243f6a88 + seed * 7, c = 0xb7e15162 ^ (seed << 5), d = 1;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return { next };
}

/** Cryptographically strong generator (for server-chosen challenges). */
export function cryptoRng(): Rng {
  const buf = new Uint32Array(64);
  let i = buf.length;
  return {
    next() {
      if (i >= buf.length) { globalThis.crypto.getRandomValues(buf); i = 0; }
      return buf[i++]! / 4294967296;
    },
  };
}

export const uniform = (r: Rng, lo: number, hi: number): number => lo + (hi - lo) * r.next();
export const int = (r: Rng, lo: number, hiInclusive: number): number => lo + Math.floor(r.next() * (hiInclusive - lo + 1));
export const chance = (r: Rng, p: number): boolean => r.next() < p;
export function pick<T>(r: Rng, items: readonly T[]): T {
  return items[Math.floor(r.next() * items.length)]!;
}
export function normal(r: Rng): number {
  const u = Math.max(1e-12, r.next());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.next());
}
export function shuffle<T>(r: Rng, items: readonly T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
