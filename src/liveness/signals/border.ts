/**
 * Device or paper border (PASSIVE, single frame). Long straight edges are found with a
 * gradient-oriented Hough transform; those that run beside, above or below the face and form a
 * consistent (parallel / perpendicular) frame around it are the sides of a phone, a monitor or a
 * sheet of paper. A live capture is a head and shoulders in a scene: edges in the room rarely
 * enclose the face on several sides, and nothing cuts across the neck below the chin.
 * A tight face crop has no surroundings: the signal does not apply.
 */
import { binnedGreyOf, blurGrey, scaleBox } from '../image.ts';
import type { Box, FaceGeometry, GreyImage, RgbImage, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';
import { Scratch, scratchFloat32 } from '../scratch.ts';

export const BORDER = {
  workWidth: 320,
  /** Margin (in face widths) needed on at least two sides for the signal to apply. */
  minMargin: 0.35,
  /** Edge magnitude threshold (grey levels per pixel after a σ=1 blur) and angle tolerance. */
  minEdge: 6,
  angleTolDeg: 14,
  /** Sides must be within this many face sizes of the face. */
  maxDistance: 2.6,
  /** Scores by evidence. */
  scoreFour: 0.08,
  scoreThree: 0.2,
  scoreThreeNoBottom: 0.45,
  scoreTwoOpposite: 0.6,
  scoreTwoAdjacent: 0.6,
  scoreBottomOnly: 0.8,
  scoreOne: 0.9,
} as const;

export type Side = 'left' | 'right' | 'top' | 'bottom';

export interface Segment {
  /** Line normal angle (radians, 0..π) and offset: x cosθ + y sinθ = ρ. */
  theta: number;
  rho: number;
  x0: number; y0: number; x1: number; y1: number;
  length: number;
}

export interface SideHit { side: Side; seg: Segment; angle: number; coverage: number; distance: number }

export function borderSignal(img: RgbImage, face: FaceGeometry): SignalResult {
  const W0 = img.width, H0 = img.height;
  const b0 = face.box;
  const margins = { left: b0.x, right: W0 - b0.x - b0.width, top: b0.y, bottom: H0 - b0.y - b0.height };
  const roomy = Object.values(margins).filter((m) => m >= BORDER.minMargin * b0.width).length;
  if (roomy < 2 || b0.width > 0.7 * W0) {
    return { signal: 'device_border', applies: false, score: 1, reason: 'tight face crop: no surroundings to check for a device or paper border' };
  }
  const bin = Math.max(1, Math.round(W0 / BORDER.workWidth));
  const g = blurGrey(binnedGreyOf(img, bin), 1);
  const box = scaleBox(b0, 1 / bin);
  const segments = findSegments(g, 0.45 * Math.min(box.width, box.height));
  const hits = classify(segments, box);
  const best = bestFrame(hits);
  const sides = best.map((h) => h.side);
  const details: Record<string, number | string | boolean> = {
    segments: segments.length,
    sides: sides.join('+') || 'none',
    candidates: hits.length,
  };
  for (const h of best) details[`${h.side}Coverage`] = Math.round(h.coverage * 100) / 100;
  const hasBottom = sides.includes('bottom');
  let score: number;
  if (sides.length >= 4) score = BORDER.scoreFour;
  else if (sides.length === 3) score = hasBottom ? BORDER.scoreThree : BORDER.scoreThreeNoBottom;
  else if (sides.length === 2) {
    const opposite = (sides.includes('left') && sides.includes('right')) || (sides.includes('top') && sides.includes('bottom'));
    score = opposite ? BORDER.scoreTwoOpposite : BORDER.scoreTwoAdjacent;
  } else if (sides.length === 1) score = hasBottom ? BORDER.scoreBottomOnly : BORDER.scoreOne;
  else score = 1;
  const r: SignalResult = {
    signal: 'device_border', applies: true, score,
    reason: sides.length >= 2 ? `straight edges frame the face (${sides.join(', ')})` : sides.length ? `one straight edge near the face (${sides[0]})` : 'no frame around the face',
    details,
  };
  if (score < 0.7) r.warning = livenessWarning('DEVICE_BORDER', score <= BORDER.scoreThree ? 'error' : 'warning', { sides });
  return r;
}

/** findSegments' working buffers, reused (nothing of them outlives a call). */
const magBuf = scratchFloat32(), angBuf = scratchFloat32(), accBuf = scratchFloat32();
const edgeBuf = new Scratch((n) => new Uint8Array(n));

/** Straight segments at least `minLength` long (work pixels). */
export function findSegments(g: GreyImage, minLength: number): Segment[] {
  const { width: w, height: h, data } = g;
  // mag zeroed (the border pixels are read as neighbours); ang is read only where this call wrote it
  const mag = magBuf.take(w * h).fill(0), ang = angBuf.take(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gx = (data[i - w + 1]! + 2 * data[i + 1]! + data[i + w + 1]! - data[i - w - 1]! - 2 * data[i - 1]! - data[i + w - 1]!) / 8;
      const gy = (data[i + w - 1]! + 2 * data[i + w]! + data[i + w + 1]! - data[i - w - 1]! - 2 * data[i - w]! - data[i - w + 1]!) / 8;
      const m = Math.sqrt(gx * gx + gy * gy);
      mag[i] = m;
      // the angle is read only at edge pixels (magnitude ≥ minEdge)
      if (Math.fround(m) < BORDER.minEdge) continue;
      let a = Math.atan2(gy, gx);
      if (a < 0) a += Math.PI;
      if (a >= Math.PI) a -= Math.PI;
      ang[i] = a;
    }
  }
  // non-maximum suppression across the edge keeps lines one pixel thin
  const edge = edgeBuf.take(w * h).fill(0);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const m = mag[i]!;
      if (m < BORDER.minEdge) continue;
      const a = ang[i]!;
      const dx = Math.round(Math.cos(a)), dy = Math.round(Math.sin(a));
      if (m >= mag[i + dy * w + dx]! && m >= mag[i - dy * w - dx]!) edge[i] = 1;
    }
  }
  const nTheta = 180;
  const diag = Math.ceil(Math.hypot(w, h));
  const nRho = 2 * diag + 1;
  const acc = accBuf.take(nTheta * nRho).fill(0);
  const cos = new Float32Array(nTheta), sin = new Float32Array(nTheta);
  for (let t = 0; t < nTheta; t++) { cos[t] = Math.cos((t * Math.PI) / nTheta); sin[t] = Math.sin((t * Math.PI) / nTheta); }
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (!edge[i]) continue;
      const t0 = Math.round((ang[i]! * nTheta) / Math.PI);
      for (let dt = -2; dt <= 2; dt++) {
        const t = (t0 + dt + nTheta) % nTheta;
        const rho = Math.round(x * cos[t]! + y * sin[t]!) + diag;
        acc[t * nRho + rho]! += 1;
      }
    }
  }
  // peaks
  const peaks: Array<{ t: number; r: number; v: number }> = [];
  const minVotes = minLength * 0.6;
  for (let t = 0; t < nTheta; t++) {
    for (let r = 1; r < nRho - 1; r++) {
      const v = acc[t * nRho + r]!;
      if (v < minVotes) continue;
      let isMax = true;
      for (let dt = -3; dt <= 3 && isMax; dt++) {
        const tt = (t + dt + nTheta) % nTheta;
        for (let dr = -3; dr <= 3; dr++) {
          if (!dt && !dr) continue;
          const rr = r + dr;
          if (rr < 0 || rr >= nRho) continue;
          const u = acc[tt * nRho + rr]!;
          if (u > v || (u === v && (dt < 0 || (dt === 0 && dr < 0)))) { isMax = false; break; }
        }
      }
      if (isMax) peaks.push({ t, r, v });
    }
  }
  peaks.sort((a, b) => b.v - a.v);
  const segs: Segment[] = [];
  const tol = Math.cos((BORDER.angleTolDeg * Math.PI) / 180);
  for (const p of peaks.slice(0, 60)) {
    const theta = (p.t * Math.PI) / nTheta;
    const rho = p.r - diag;
    const nx = Math.cos(theta), ny = Math.sin(theta);
    const dxl = -ny, dyl = nx; // direction along the line
    // walk the visible part of the line
    const x0 = nx * rho, y0 = ny * rho;
    let best: { a: number; b: number } | null = null;
    let runStart = -1, lastHit = -1e9;
    const L = diag;
    for (let s = -L; s <= L; s++) {
      const x = x0 + dxl * s, y = y0 + dyl * s;
      if (x < 1 || y < 1 || x >= w - 1 || y >= h - 1) continue;
      let hit = false;
      for (let o = -1; o <= 1 && !hit; o++) {
        const xx = Math.round(x + nx * o), yy = Math.round(y + ny * o);
        const i = yy * w + xx;
        if (edge[i] && Math.abs(Math.cos(ang[i]! - theta)) >= tol) hit = true;
      }
      if (hit) {
        if (s - lastHit > 4) runStart = s;
        lastHit = s;
        if (!best || s - runStart > best.b - best.a) best = { a: runStart, b: s };
      }
    }
    if (!best || best.b - best.a < minLength) continue;
    segs.push({ theta, rho, x0: x0 + dxl * best.a, y0: y0 + dyl * best.a, x1: x0 + dxl * best.b, y1: y0 + dyl * best.b, length: best.b - best.a });
  }
  return segs;
}

/** Straight segments that run beside, above or below the face (candidate sides of a device or sheet). */
export function classify(segs: readonly Segment[], box: Box): SideHit[] {
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const fw = box.width, fh = box.height;
  const hits: SideHit[] = [];
  for (const s of segs) {
    const dx = s.x1 - s.x0, dy = s.y1 - s.y0;
    const vertical = Math.abs(dx) < Math.abs(dy);
    const angle = Math.atan2(dy, dx);
    if (vertical) {
      if (Math.abs(dx) / Math.abs(dy) > Math.tan((30 * Math.PI) / 180)) continue;
      // x of the line at the face's centre height
      const x = s.x0 + ((cy - s.y0) * dx) / dy;
      const ya = Math.min(s.y0, s.y1), yb = Math.max(s.y0, s.y1);
      const coverage = Math.max(0, Math.min(yb, box.y + fh) - Math.max(ya, box.y)) / fh;
      if (coverage < 0.7) continue;
      if (x < box.x - 0.04 * fw) {
        const d = (box.x - x) / fw;
        if (d <= BORDER.maxDistance) hits.push({ side: 'left', seg: s, angle, coverage, distance: d });
      } else if (x > box.x + fw * 1.04) {
        const d = (x - box.x - fw) / fw;
        if (d <= BORDER.maxDistance) hits.push({ side: 'right', seg: s, angle, coverage, distance: d });
      }
    } else {
      if (Math.abs(dy) / Math.abs(dx) > Math.tan((30 * Math.PI) / 180)) continue;
      const y = s.y0 + ((cx - s.x0) * dy) / dx;
      const xa = Math.min(s.x0, s.x1), xb = Math.max(s.x0, s.x1);
      const coverage = Math.max(0, Math.min(xb, box.x + fw) - Math.max(xa, box.x)) / fw;
      if (coverage < 0.85) continue;
      if (y < box.y - 0.04 * fh) {
        const d = (box.y - y) / fh;
        if (d <= BORDER.maxDistance) hits.push({ side: 'top', seg: s, angle, coverage, distance: d });
      } else if (y > box.y + fh * 1.04) {
        const d = (y - box.y - fh) / fh;
        if (d <= BORDER.maxDistance) hits.push({ side: 'bottom', seg: s, angle, coverage, distance: d });
      }
    }
  }
  return hits;
}

const dirDiff = (a: number, b: number): number => {
  let d = Math.abs(a - b) % Math.PI;
  if (d > Math.PI / 2) d = Math.PI - d;
  return (d * 180) / Math.PI;
};

/** The largest set of sides (one per side) that are mutually parallel/perpendicular within 12°. */
function bestFrame(hits: readonly SideHit[]): SideHit[] {
  const bySide = new Map<Side, SideHit[]>();
  for (const h of hits) {
    const a = bySide.get(h.side) ?? [];
    a.push(h);
    bySide.set(h.side, a);
  }
  const order: Side[] = ['left', 'right', 'top', 'bottom'];
  let best: SideHit[] = [];
  let bestLen = 0;
  const choose = (i: number, cur: SideHit[]) => {
    if (i === order.length) {
      const len = cur.reduce((s, h) => s + h.seg.length, 0);
      if (cur.length > best.length || (cur.length === best.length && len > bestLen)) { best = cur.slice(); bestLen = len; }
      return;
    }
    choose(i + 1, cur);
    for (const h of (bySide.get(order[i]!) ?? []).slice(0, 6)) {
      const ok = cur.every((c) => {
        const d = dirDiff(c.angle, h.angle);
        const sameAxis = (c.side === 'left' || c.side === 'right') === (h.side === 'left' || h.side === 'right');
        return sameAxis ? d <= 12 : Math.abs(d - 90) <= 15;
      });
      if (ok) { cur.push(h); choose(i + 1, cur); cur.pop(); }
    }
  };
  choose(0, []);
  return best;
}
