/**
 * light_shading (PASSIVE with screen light): the screen in front of the face is a light source.
 * Per patch of the face, the brightening under the white screen over the dark grey one, divided
 * by the patch's brightness under the dark grey (albedo and room light cancel), is constant or a
 * smooth gradient on a flat print — every point of the paper faces the screen alike — and varies
 * with the surface normal on a 3D face (nose ridge and cheeks face the screen, the sides of the face
 * and the eye sockets less). The same measurement as FLASHING's flash_shading, on the ~1 s burst and
 * a light about a quarter as strong, so it only speaks where the response is clearly measured.
 *
 * Screen light alone lets a print through (paper reflects the light as skin does); this is what
 * tells the two apart. It does not apply where screen_light saw no response (an emissive replay is
 * screen_light's to judge).
 */
import { leastSquares } from '../geometry.ts';
import { binnedGreyOf, clamp01, clipBox, faceInner, ramp } from '../image.ts';
import type { Box, FaceGeometry, Frame, Point, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';
import { Scratch } from '../scratch.ts';
import { laggedPattern } from './screen-light.ts';

export const LIGHT_SHADING = {
  /** Face grid (patches per side) over the inner face box. */
  grid: 6,
  /** Frames whose lagged screen level is at least / at most this count as lit / dark. */
  litLevel: 0.9,
  darkLevel: 0.1,
  /**
   * Registration search (burst pixels) of each frame's face against the capture frame (a print
   * held close to the camera moves up to ~10 px in the burst), then of each patch around it.
   */
  searchPx: 12,
  localPx: 1,
  /** Patches darker than this (grey levels, under the dark screen), or with more than maxClipped of their pixels at ≥ 250 in any frame, are left out. */
  minLevel: 12,
  maxClipped: 0.02,
  /** Mean relative response below which the shading cannot be measured (not evidence either way). */
  minResponse: 0.008,
  /** RMS residual of the relative response after a plane fit: flat up to `flat`, 3D from `curved`. */
  // on the face engine's box, as the verifier has it (calibration seeds 1–60: live faces 0.17–0.68,
  // p5 0.22; hand-held prints ≤ 0.19, p95 0.13; prints on a stand ≤ 0.14)
  flat: 0.08,
  curved: 0.16,
  /** Regions beside the face: this far out from the face box and this wide (face widths), searched ± px around the face's shift and around none. */
  sideGap: 0.5,
  sideWidth: 0.3,
  sideSearchPx: 1,
  /** Response beside the face over the face's: up to `falloffLive` a room, from `falloffFlat` the same surface. */
  falloffLive: 0.15,
  falloffFlat: 0.35,
} as const;

/** Luma from which a pixel counts as clipped. */
const CLIPPED_AT = 250;

/** Luma of the frame (the image module's grey, computed once per image and shared with the other signals). */
function luma(f: Frame): Float32Array {
  return binnedGreyOf(f.image, 1).data;
}

/**
 * Integer offset of the face in `img` relative to `ref` (zero-mean normalised correlation over the
 * box, so the screen light's brightness change does not bias it).
 */
function register(ref: Float32Array, img: Float32Array, w: number, h: number, box: Box, r: number): Point {
  const b = clipBox(box, w, h);
  if (!b) return { x: 0, y: 0 };
  // coarse (every other shift, every third pixel), then the neighbours of the best at full density
  let best = { x: 0, y: 0 }, bestC = -Infinity;
  for (let dy = -r; dy <= r; dy += 2) for (let dx = -r; dx <= r; dx += 2) {
    const c = ncc(ref, img, w, h, b, dx, dy, 3);
    if (c > bestC) { bestC = c; best = { x: dx, y: dy }; }
  }
  const around = best;
  bestC = -Infinity;
  for (let dy = around.y - 1; dy <= around.y + 1; dy++) for (let dx = around.x - 1; dx <= around.x + 1; dx++) {
    const c = ncc(ref, img, w, h, b, dx, dy, 2);
    if (c > bestC) { bestC = c; best = { x: dx, y: dy }; }
  }
  return best;
}

/**
 * Summed-area tables of a frame's luma (I) and of its clipped pixels (K, 1 where luma ≥ clippedAt),
 * in one pass, over the window [x0, xEnd) × [y0, yEnd) only: the light signals' boxes (the face and
 * beside it, moved by at most the registration search) never read outside it (boxMean checks, and
 * asks for the whole frame when one would). A box's sum from a window's table is the whole table's
 * to the bit: luma values are float32 of 0.299R + 0.587G + 0.114B, multiples of 2⁻²⁷, so every
 * partial sum of a frame up to 2²⁶ (any 320 × 240 frame) is exact in float64, in any order.
 *
 * The tables are written into buffers kept between calls (18 frames × 2 tables of ≈ 0.6 MB each
 * per session was most of the liveness worker's garbage): `slot` names the pair; a call's tables
 * are valid until the next call with that slot (lightSignals runs to its end synchronously).
 */
type Tables = { I: Float64Array; K: Float64Array; x0: number; y0: number; xEnd: number; yEnd: number; l: Float32Array; w: number; h: number };

/** Kept table buffers, one per slot and table (a quarter of headroom: the window follows the face's size, which varies between sessions). */
const tableBuffers: Array<Scratch<Float64Array>> = [];

/** The kept buffer k, of at least `size`; a fresh one for k < 0. */
function tableBuffer(k: number, size: number): Float64Array {
  if (k < 0) return new Float64Array(size);
  return (tableBuffers[k] ??= new Scratch((n) => new Float64Array(n), 1.25)).take(size);
}

function integrals(l: Float32Array, w: number, h: number, x0: number, y0: number, xEnd: number, yEnd: number, clippedAt: number, slot: number): Tables {
  const W = xEnd - x0 + 1, H = yEnd - y0 + 1;
  const I = tableBuffer(slot < 0 ? -1 : 2 * slot, W * H), K = tableBuffer(slot < 0 ? -1 : 2 * slot + 1, W * H);
  I.fill(0, 0, W); K.fill(0, 0, W);
  for (let y = 0; y < H - 1; y++) {
    let row = 0, clip = 0;
    const src = (y0 + y) * w + x0, above = y * W + 1, here = (y + 1) * W + 1;
    I[here - 1] = 0; K[here - 1] = 0;
    for (let x = 0; x < W - 1; x++) {
      const v = l[src + x]!;
      row += v;
      clip += v >= clippedAt ? 1 : 0;
      I[here + x] = I[above + x]! + row;
      K[here + x] = K[above + x]! + clip;
    }
  }
  return { I, K, x0, y0, xEnd, yEnd, l, w, h };
}

/** Mean over box b shifted by (sub-pixel) d: bilinear blend of the four integer shifts' box means. */
function boxMean(t: Tables, table: 'I' | 'K', b: Box, d: Point): number {
  const w = t.w, h = t.h;
  const at = (ox: number, oy: number): number => {
    const x0 = Math.max(0, Math.min(w, Math.round(b.x + ox))), x1 = Math.max(0, Math.min(w, Math.round(b.x + b.width + ox)));
    const y0 = Math.max(0, Math.min(h, Math.round(b.y + oy))), y1 = Math.max(0, Math.min(h, Math.round(b.y + b.height + oy)));
    const n = (x1 - x0) * (y1 - y0);
    if (n <= 0) return 0;
    // outside the window computed: the whole frame's tables, in fresh buffers (never met with the
    // bounds lightSignals gives)
    if (x0 < t.x0 || y0 < t.y0 || x1 > t.xEnd || y1 > t.yEnd) Object.assign(t, integrals(t.l, w, h, 0, 0, w, h, CLIPPED_AT, -1));
    const I = t[table], W = t.xEnd - t.x0 + 1, ax = x0 - t.x0, bx = x1 - t.x0, ay = y0 - t.y0, by = y1 - t.y0;
    return (I[by * W + bx]! - I[by * W + ax]! - I[ay * W + bx]! + I[ay * W + ax]!) / n;
  };
  const fx = Math.floor(d.x), fy = Math.floor(d.y), ax = d.x - fx, ay = d.y - fy;
  return (1 - ay) * ((1 - ax) * at(fx, fy) + ax * at(fx + 1, fy)) + ay * ((1 - ax) * at(fx, fy + 1) + ax * at(fx + 1, fy + 1));
}

/**
 * Sums of ref (Σa, Σa², count) over a window at a step, computed once per ref image and window: the
 * correlations of one patch against many shifts and frames share the ref side whenever the window
 * is not cut by the image edge (summed in the same order, so the same numbers).
 */
const refSums = new WeakMap<Float32Array, Map<number, [number, number, number]>>();

function refStats(ref: Float32Array, w: number, x0: number, y0: number, x1: number, y1: number, step: number): [number, number, number] {
  // (the key packs the window in 10 bits a side: frames are at most 640 px, larger ones are not cached)
  let m = refSums.get(ref);
  if (!m) { m = new Map(); refSums.set(ref, m); }
  const key = x1 < 1024 && y1 < 1024 && step < 8 ? (((y1 * 1024 + x1) * 1024 + y0) * 1024 + x0) * 8 + step : -1;
  let st = key < 0 ? undefined : m.get(key);
  if (!st) {
    let sa = 0, saa = 0, n = 0;
    for (let y = y0; y < y1; y += step) for (let x = x0; x < x1; x += step) { const a = ref[y * w + x]!; sa += a; saa += a * a; n++; }
    st = [sa, saa, n];
    if (key >= 0) m.set(key, st);
  }
  return st;
}

/**
 * Zero-mean normalised correlation of box b in ref with b shifted by integer (dx, dy) in img, over
 * every `step`-th pixel of the box that stays inside both images; -1 when too little is left or
 * either side is flat.
 */
function ncc(ref: Float32Array, img: Float32Array, w: number, h: number, b: Box, dx: number, dy: number, step = 1): number {
  const x0 = Math.max(0, Math.round(b.x), -dx), y0 = Math.max(0, Math.round(b.y), -dy);
  const x1 = Math.min(w, Math.round(b.x + b.width), w - dx), y1 = Math.min(h, Math.round(b.y + b.height), h - dy);
  if (x1 <= x0 || y1 <= y0) return -1;
  const [sa, saa, n] = refStats(ref, w, x0, y0, x1, y1, step);
  if (n < 4) return -1;
  let sb = 0, sbb = 0, sab = 0;
  const off = dy * w + dx;
  for (let y = y0; y < y1; y += step) for (let x = x0; x < x1; x += step) {
    const i = y * w + x;
    const a = ref[i]!, v = img[i + off]!;
    sb += v; sbb += v * v; sab += a * v;
  }
  const va = saa - (sa * sa) / n, vb = sbb - (sb * sb) / n;
  return va > 1e-6 && vb > 1e-6 ? (sab - (sa * sb) / n) / Math.sqrt(va * vb) : -1;
}

/**
 * The patch's offset in img: best integer shift within ±r of any of `centres` (the face's shift in
 * this frame; for regions beside the face also no shift, the room standing still), refined to
 * sub-pixel by parabolas.
 */
function localOffset(ref: Float32Array, img: Float32Array, w: number, h: number, b: Box, centres: readonly Point[], r: number): Point {
  const around = centres[0]!;
  let best = { x: around.x, y: around.y }, bestC = -Infinity;
  const c = new Map<number, number>();
  const get = (dx: number, dy: number) => { const k = (dx + 512) * 1024 + dy + 512; let v = c.get(k); if (v === undefined) { v = ncc(ref, img, w, h, b, dx, dy); c.set(k, v); } return v; };
  for (const o of centres) for (let dy = o.y - r; dy <= o.y + r; dy++) for (let dx = o.x - r; dx <= o.x + r; dx++) {
    const v = get(dx, dy);
    if (v > bestC) { bestC = v; best = { x: dx, y: dy }; }
  }
  // a flat patch has no best shift: its mean does not depend on it
  if (bestC < 0.3) return around;
  const sub = (m: number, z: number, p: number) => { const den = m - 2 * z + p; return den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (m - p)) / den)) : 0; };
  const z = bestC;
  return { x: best.x + sub(get(best.x - 1, best.y), z, get(best.x + 1, best.y)), y: best.y + sub(get(best.x, best.y - 1), z, get(best.x, best.y + 1)) };
}

/**
 * Where the face is in each burst frame relative to the capture frame (integer shift of the inner
 * face box; zero-mean correlation, so the screen light's brightness change does not bias it). The
 * face moves in the burst (head micro-motion, camera shake, a hand-held device): a fixed box sees
 * different content come and go, and that brightness change can line up with the pattern.
 */
export function faceRegistration(burst: readonly Frame[], face: FaceGeometry, captureIndex: number): Point[] {
  const w = burst[0]!.image.width, h = burst[0]!.image.height;
  const ib = faceInner(face.box);
  const ci = Math.min(burst.length - 1, captureIndex);
  const ref = luma(burst[ci]!);
  return burst.map((f, i) => (i === ci ? { x: 0, y: 0 } : register(ref, luma(f), w, h, ib, LIGHT_SHADING.searchPx)));
}

/**
 * light_shading and light_falloff from one pass over the burst.
 * @param burst the burst frames (one per pattern value)
 * @param face the face in burst pixels (at the capture frame)
 * @param pattern the pattern the page showed
 * @param lag the lag (frames) at which screen_light found the face following the pattern
 * @param offsets the face's shift in each frame (faceRegistration); computed here when absent
 */
export function lightSignals(burst: readonly Frame[], face: FaceGeometry, pattern: readonly number[], lag: number, captureIndex: number, offsets?: readonly Point[]): SignalResult[] {
  const C = LIGHT_SHADING;
  const n = Math.min(burst.length, pattern.length);
  const level = laggedPattern(pattern.slice(0, n), lag);
  const lit: number[] = [], dark: number[] = [];
  level.forEach((v, i) => { if (v >= C.litLevel) lit.push(i); else if (v <= C.darkLevel) dark.push(i); });
  if (lit.length < 2 || dark.length < 2) {
    const reason = 'too few frames fully under the white or the dark screen';
    return [{ signal: 'light_shading', applies: false, score: 1, reason }, { signal: 'light_falloff', applies: false, score: 1, reason }];
  }
  const w = burst[0]!.image.width, h = burst[0]!.image.height;
  const ib = faceInner(face.box);
  const ref = luma(burst[Math.min(n - 1, captureIndex)]!);
  // Every frame counts, each by the screen level it saw (the lagged pattern: 0.5 for a frame that
  // straddles a change at a half-frame lag). Averaging only the frames fully under one level threw
  // most frames away with the 16-frame patterns, whose runs are as short as one frame: the means
  // got noisy, and noise reads as uneven light (a flat print looking curved).
  const frames: Array<{ l: Float32Array; t: Tables; o: Point }> = [];
  const os: Point[] = [];
  for (let i = 0; i < n; i++) os.push(offsets?.[i] ?? register(ref, luma(burst[i]!), w, h, ib, C.searchPx));
  // the tables are read only within the face's grid and the regions beside it, moved by the
  // frame's offset, the local search, the sub-pixel neighbours and rounding
  const reach = Math.max(...os.map((o) => Math.max(Math.abs(o.x), Math.abs(o.y)))) + Math.max(C.localPx, C.sideSearchPx) + 3;
  const right = face.box.x + face.box.width * (1 + C.sideGap + C.sideWidth), bottom = Math.max(ib.y + ib.height, face.box.y + 0.9 * face.box.height);
  const left = Math.min(ib.x, face.box.x - face.box.width * (C.sideGap + C.sideWidth)), top = Math.min(ib.y, face.box.y);
  const xEnd = Math.max(0, Math.min(w, Math.ceil(right + reach))), yEnd = Math.max(0, Math.min(h, Math.ceil(bottom + reach)));
  const x0 = Math.max(0, Math.min(xEnd, Math.floor(left - reach))), y0 = Math.max(0, Math.min(yEnd, Math.floor(top - reach)));
  for (let i = 0; i < n; i++) {
    const l = luma(burst[i]!);
    frames.push({ l, t: integrals(l, w, h, x0, y0, xEnd, yEnd, CLIPPED_AT, i), o: os[i]! });
  }
  const fitRows = responseModel(level, burst.slice(0, n).map((f) => f.t));
  // Relative response (lit − dark) / dark of a region, each region at its own sub-pixel offset in
  // each frame (a hand-held print or a head turns and tilts, so one shift per frame misaligns the
  // edges, and a misaligned edge reads as uneven light); null when too dark or clipped.
  const still = { x: 0, y: 0 };
  const response = (b: Box, radius: number, besideFace = false): number | null => {
    const v: number[] = [];
    let clip = 0;
    for (const f of frames) {
      const d = localOffset(ref, f.l, w, h, b, besideFace ? [f.o, still] : [f.o], radius);
      v.push(boxMean(f.t, 'I', b, d));
      clip = Math.max(clip, boxMean(f.t, 'K', b, d));
    }
    // brightness = dark + gain · level + drift · time: dark is the region under the dark grey, gain
    // what the white adds (the same least-squares rows for every region: one matrix product)
    let dark = 0, gain = 0;
    for (let i = 0; i < n; i++) { dark += fitRows[0]![i]! * v[i]!; gain += fitRows[1]![i]! * v[i]!; }
    // where the camera clips, the response reads small
    return dark < C.minLevel || clip > C.maxClipped ? null : gain / dark;
  };
  const g = C.grid;
  const vals: Array<[number, number]> = [];
  for (let py = 0; py < g; py++) for (let px = 0; px < g; px++) {
    const v = response({ x: ib.x + (px / g) * ib.width, y: ib.y + (py / g) * ib.height, width: ib.width / g, height: ib.height / g }, C.localPx);
    if (v !== null) vals.push([py * g + px, v]);
  }
  if (vals.length < 12) {
    const reason = 'the face was too dark or clipped to measure the light on it';
    return [{ signal: 'light_shading', applies: false, score: 1, reason, details: { patches: vals.length } }, { signal: 'light_falloff', applies: false, score: 1, reason }];
  }
  const m = vals.reduce((a, v) => a + v[1], 0) / vals.length;
  if (m < C.minResponse) {
    const reason = 'the screen light on the face is too weak to measure';
    return [{ signal: 'light_shading', applies: false, score: 1, reason, details: { response: round(m, 4) } }, { signal: 'light_falloff', applies: false, score: 1, reason }];
  }
  return [shading(vals, m, lit.length, dark.length), falloff(face.box, m, w, h, response)];
}

function shading(vals: ReadonlyArray<[number, number]>, m: number, lit: number, dark: number): SignalResult {
  const C = LIGHT_SHADING, g = C.grid;
  const rows = vals.map(([p]) => [1, (p % g) / g - 0.5, Math.floor(p / g) / g - 0.5]);
  const ys = vals.map(([, v]) => v / m);
  const c = leastSquares(rows, ys)!;
  const res = ys.map((y, i) => y - (c[0]! + c[1]! * rows[i]![1]! + c[2]! * rows[i]![2]!));
  const curvature = Math.sqrt(res.reduce((a, b) => a + b * b, 0) / res.length);
  // (no upper bound: the face engine's box takes in hair and background, whose response differs
  // from the skin's, so a live face's unevenness reaches 0.6–1.4 there)
  const score = clamp01(0.08 + 0.92 * ramp(curvature, C.flat, C.curved));
  const r: SignalResult = {
    signal: 'light_shading', applies: true, score: round(score, 3),
    reason: score >= 0.5 ? "the screen's light varies across the face like on a 3D surface" : "the screen's light is spread like on a flat surface",
    details: { curvature: round(curvature, 3), response: round(m, 4), patches: vals.length, lit, dark },
  };
  if (score < 0.5) r.warning = livenessWarning('FLAT_SHADING', score < 0.2 ? 'error' : 'warning', { curvature: round(curvature, 3) });
  return r;
}

/**
 * Light falls off with distance from the screen: beside a live face (at its height, clear of hair
 * and ears) is the room, a metre or more away, lit a few percent as much as the face at 20–40 cm;
 * the paper around a printed face is as close as the face and lit alike. The side that is lit less
 * decides (hair or a raised hand near one side of a live face must not count against it).
 */
function falloff(fb: Box, m: number, w: number, h: number, response: (b: Box, radius: number, besideFace: boolean) => number | null): SignalResult {
  const C = LIGHT_SHADING;
  const sides: number[] = [];
  for (const dir of [-1, 1]) {
    const vs: number[] = [];
    for (let k = 0; k < 3; k++) {
      const bw = C.sideWidth * fb.width;
      const x = dir < 0 ? fb.x - C.sideGap * fb.width - bw : fb.x + fb.width + C.sideGap * fb.width;
      const b = { x, y: fb.y + (k / 3) * 0.9 * fb.height, width: bw, height: 0.3 * fb.height };
      if (b.x < 0 || b.y < 0 || b.x + b.width > w || b.y + b.height > h) continue;
      const v = response(b, C.sideSearchPx, true);
      if (v !== null) vs.push(v / m);
    }
    if (vs.length >= 2) sides.push(vs.sort((a, b) => a - b)[Math.floor(vs.length / 2)]!);
  }
  if (!sides.length) return { signal: 'light_falloff', applies: false, score: 1, reason: 'nothing measurable beside the face (face at the frame edge, or too dark)' };
  const ratio = Math.min(...sides);
  const score = clamp01(0.05 + 0.95 * (1 - ramp(ratio, C.falloffLive, C.falloffFlat)));
  const r: SignalResult = {
    signal: 'light_falloff', applies: true, score: round(score, 3),
    reason: score >= 0.5 ? 'the screen lights the face, not the room beside it' : 'the screen lights the surface beside the face as much as the face (a picture)',
    details: { ratio: round(ratio, 3), sides: sides.length },
  };
  if (score < 0.5) r.warning = livenessWarning('LIGHT_MISMATCH', score < 0.2 ? 'error' : 'warning', { besideFace: round(ratio, 3) });
  return r;
}

/**
 * The least-squares solution rows of brightness = dark + gain · level + drift · (t − mean t) over the
 * burst's frames: row 0 gives dark, row 1 gain, for any region's brightness series (dot product).
 * The drift term takes up a slow change of exposure or of the light in the room, as screen_light's
 * trend does; the pattern changes at least 4 times, so it is not confused with it.
 */
function responseModel(level: readonly number[], t: readonly number[]): number[][] {
  const n = level.length, mt = t.reduce((a, b) => a + b, 0) / n;
  // (frames without times, as some callers build them: no drift term, which leaves it out of the fit)
  const timed = t.some((v) => v !== t[0]);
  const X = level.map((l, i) => [1, l, timed ? (t[i]! - mt) / 1000 : 0]);
  const A = [0, 1, 2].map((r) => [0, 1, 2].map((c) => X.reduce((a, x) => a + x[r]! * x[c]!, 0)));
  if (!timed) A[2]![2] = 1;
  const inv = invert3(A);
  return [0, 1].map((r) => X.map((x) => inv[r]![0]! * x[0]! + inv[r]![1]! * x[1]! + inv[r]![2]! * x[2]!));
}

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!, [d, e, f] = m[1]!, [g, h, k] = m[2]!;
  const A = e! * k! - f! * h!, B = -(d! * k! - f! * g!), Cc = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * Cc;
  const s = 1 / det;
  return [
    [A * s, -(b! * k! - c! * h!) * s, (b! * f! - c! * e!) * s],
    [B * s, (a! * k! - c! * g!) * s, -(a! * f! - c! * d!) * s],
    [Cc * s, -(a! * h! - b! * g!) * s, (a! * e! - b! * d!) * s],
  ];
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
