/** Small linear algebra for the liveness signals: least squares, homographies, affine fits. */
import type { Point } from './types.ts';

/** Solve A x = b (n×n, row-major) by Gaussian elimination with partial pivoting; null if singular. */
export function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-12) return null;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/** Weighted linear least squares: rows of the design matrix and targets. */
export function leastSquares(rows: number[][], targets: number[], weights?: number[]): number[] | null {
  const m = rows[0]?.length ?? 0;
  const A = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const b = new Array<number>(m).fill(0);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!, w = weights ? weights[i]! : 1;
    if (w === 0) continue;
    for (let j = 0; j < m; j++) {
      b[j]! += w * r[j]! * targets[i]!;
      for (let k = j; k < m; k++) A[j]![k]! += w * r[j]! * r[k]!;
    }
  }
  for (let j = 0; j < m; j++) for (let k = 0; k < j; k++) A[j]![k] = A[k]![j]!;
  // tiny ridge for stability
  for (let j = 0; j < m; j++) A[j]![j]! += 1e-9;
  return solve(A, b);
}

/** 3×3 homography as 9 numbers (h33 = 1). */
export type Homography = number[];

export function applyH(H: Homography, p: Point): Point {
  const w = H[6]! * p.x + H[7]! * p.y + H[8]!;
  return { x: (H[0]! * p.x + H[1]! * p.y + H[2]!) / w, y: (H[3]! * p.x + H[4]! * p.y + H[5]!) / w };
}

function normaliser(pts: readonly Point[]): { s: number; mx: number; my: number } {
  let mx = 0, my = 0;
  for (const p of pts) { mx += p.x; my += p.y; }
  mx /= pts.length; my /= pts.length;
  let d = 0;
  for (const p of pts) d += Math.hypot(p.x - mx, p.y - my);
  d /= pts.length;
  return { s: d > 0 ? Math.SQRT2 / d : 1, mx, my };
}

/**
 * Homography from src to dst by linearised least squares (h33 = 1) on normalised coordinates,
 * with optional weights. Needs at least 4 points.
 */
export function fitHomography(src: readonly Point[], dst: readonly Point[], weights?: number[]): Homography | null {
  if (src.length < 4) return null;
  const ns = normaliser(src), nd = normaliser(dst);
  const rows: number[][] = [], t: number[] = [], w: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const x = (src[i]!.x - ns.mx) * ns.s, y = (src[i]!.y - ns.my) * ns.s;
    const u = (dst[i]!.x - nd.mx) * nd.s, v = (dst[i]!.y - nd.my) * nd.s;
    rows.push([x, y, 1, 0, 0, 0, -u * x, -u * y]); t.push(u);
    rows.push([0, 0, 0, x, y, 1, -v * x, -v * y]); t.push(v);
    const wi = weights ? weights[i]! : 1;
    w.push(wi, wi);
  }
  const h = leastSquares(rows, t, w);
  if (!h) return null;
  // H = Nd^-1 · Hn · Ns
  const Hn = [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, 1];
  const Ns = [ns.s, 0, -ns.s * ns.mx, 0, ns.s, -ns.s * ns.my, 0, 0, 1];
  const NdInv = [1 / nd.s, 0, nd.mx, 0, 1 / nd.s, nd.my, 0, 0, 1];
  const H = mul(NdInv, mul(Hn, Ns));
  const k = H[8]!;
  return Math.abs(k) < 1e-12 ? null : H.map((v) => v / k);
}

/** Affine map (6 numbers: a b c; d e f) from src to dst, weighted least squares. */
export function fitAffine(src: readonly Point[], dst: readonly Point[], weights?: number[]): Homography | null {
  if (src.length < 3) return null;
  const rx: number[][] = [], tx: number[] = [], ty: number[] = [];
  for (let i = 0; i < src.length; i++) { rx.push([src[i]!.x, src[i]!.y, 1]); tx.push(dst[i]!.x); ty.push(dst[i]!.y); }
  const a = leastSquares(rx, tx, weights), b = leastSquares(rx, ty, weights);
  if (!a || !b) return null;
  return [a[0]!, a[1]!, a[2]!, b[0]!, b[1]!, b[2]!, 0, 0, 1];
}

export function mul(a: readonly number[], b: readonly number[]): number[] {
  const o = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
  return o;
}

/**
 * Robust fit (iteratively reweighted, Huber-like with scale from the median residual). Returns the
 * model and the per-point residuals (pixels).
 */
export function robustFit(
  src: readonly Point[], dst: readonly Point[], kind: 'homography' | 'affine', iterations = 4,
): { H: Homography; residuals: number[] } | null {
  const fit = kind === 'homography' ? fitHomography : fitAffine;
  let w = src.map(() => 1);
  let H = fit(src, dst, w);
  if (!H) return null;
  let res = residuals(H, src, dst);
  for (let it = 0; it < iterations; it++) {
    const sorted = [...res].sort((a, b) => a - b);
    const scale = Math.max(0.02, 1.4826 * sorted[Math.floor(sorted.length / 2)]!);
    const k = 2 * scale;
    w = res.map((r) => (r <= k ? 1 : k / r));
    const H2 = fit(src, dst, w);
    if (!H2) break;
    H = H2;
    res = residuals(H, src, dst);
  }
  return { H, residuals: res };
}

export function residuals(H: Homography, src: readonly Point[], dst: readonly Point[]): number[] {
  return src.map((p, i) => {
    const q = applyH(H, p);
    return Math.hypot(q.x - dst[i]!.x, q.y - dst[i]!.y);
  });
}

/** Eigenvalues (descending) of a symmetric matrix by cyclic Jacobi rotations. */
export function symmetricEigenvalues(S: number[][]): number[] {
  const n = S.length;
  const A = S.map((r) => r.slice());
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i]![j]! ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p]![q]!;
        if (Math.abs(apq) < 1e-20) continue;
        const theta = (A[q]![q]! - A[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k]![p]!, akq = A[k]![q]!;
          A[k]![p] = c * akp - s * akq;
          A[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p]![k]!, aqk = A[q]![k]!;
          A[p]![k] = c * apk - s * aqk;
          A[q]![k] = s * apk + c * aqk;
        }
      }
    }
  }
  return A.map((r, i) => r[i]!).sort((a, b) => b - a);
}
