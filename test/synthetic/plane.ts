/**
 * Flat presentation attack instruments seen by the synthetic camera: a phone or monitor screen (bezel,
 * emissive content, the pixel grid resampled by the camera → moiré, glare) and a printed photo (ink
 * gamut, optional halftone screen, paper grain, linear shading, gloss). All geometry is a plane in
 * 3D (millimetres) projected by a pinhole camera, so moving it gives exactly one homography.
 */
import type { Box, Point } from '../../src/liveness/types.ts';
import { blend, coverage, sampleCanvas, type Canvas, type Colour } from './canvas.ts';
import { rotation } from './head.ts';

export interface Intrinsics {
  f: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
}

export interface PlanePose {
  /** Degrees (same conventions as head poses). */
  yaw: number;
  pitch: number;
  roll: number;
  /** Centre of the plane in camera coordinates, mm (x right, y down, z forward). */
  x: number;
  y: number;
  z: number;
}

export interface Glare {
  /** Centre on the plane (mm from the plane centre), radii (mm), angle (rad), peak (added radiance). */
  u: number; v: number; ru: number; rv: number; angle: number; peak: number;
}

export interface ScreenLook {
  kind: 'screen';
  /** Screen pixel pitch, mm. */
  pitch: number;
  /** Width of one subpixel stripe over the pitch (RGB stripes), and row fill. */
  duty: number;
  rowFill: number;
  brightness: number;
  black: number;
  tint: Colour;
  /** Reflected room light, added. */
  reflection: number;
}

export interface PrintLook {
  kind: 'print';
  saturation: number;
  black: number;
  white: number;
  paper: Colour;
  /** Halftone screen frequency (lines/mm), 0 for continuous-tone photo prints. */
  lpmm: number;
  grain: number;
  /** Illumination on the sheet: factor 1 + gx·u + gy·v (u, v in mm). */
  gx: number;
  gy: number;
  illumination: number;
}

export interface DeviceSpec {
  /** Outer size (mm) and corner radius of the phone/monitor body or of the paper sheet. */
  width: number;
  height: number;
  radius: number;
  body: Colour;
  /** The displayed/printed image area, mm, centred at (cu, cv) on the plane. */
  cw: number;
  ch: number;
  cu: number;
  cv: number;
  content: Canvas;
  look: ScreenLook | PrintLook;
  glare?: Glare | undefined;
}

export interface CameraOptics {
  /**
   * Optical cut-off frequency, cycles per camera pixel: MTF = (1 − f/fc)^1.5. A diffraction-limited
   * f/2 lens cuts off at ≈ 1/(λN) ≈ 900 cycles/mm, i.e. ≈ 1.3 cycles/px for 1.4 µm phone pixels
   * and ≈ 2.7 for 3 µm webcam pixels; defocus lowers it.
   */
  fc: number;
}

export interface Flash {
  colour: Colour;
  gain: number;
}

type Mat3 = [number, number, number, number, number, number, number, number, number];

export function poseMatrix(p: PlanePose): Mat3 {
  return rotation(p.yaw, p.pitch, p.roll) as Mat3;
}

/** Plane coordinates (mm) → camera pixels. */
export function planeToImage(cam: Intrinsics, pose: PlanePose, u: number, v: number): Point {
  const R = poseMatrix(pose);
  const X = R[0] * u + R[1] * v + pose.x, Y = R[3] * u + R[4] * v + pose.y, Z = R[6] * u + R[7] * v + pose.z;
  return { x: cam.cx + (cam.f * X) / Z, y: cam.cy + (cam.f * Y) / Z };
}

/** Content pixel → camera pixel. */
export function contentToImage(cam: Intrinsics, pose: PlanePose, d: DeviceSpec, px: number, py: number): Point {
  const u = d.cu + (px / d.content.width - 0.5) * d.cw;
  const v = d.cv + (py / d.content.height - 0.5) * d.ch;
  return planeToImage(cam, pose, u, v);
}

export function contentBoxToImage(cam: Intrinsics, pose: PlanePose, d: DeviceSpec, b: Box): Box {
  const pts = [
    contentToImage(cam, pose, d, b.x, b.y), contentToImage(cam, pose, d, b.x + b.width, b.y),
    contentToImage(cam, pose, d, b.x, b.y + b.height), contentToImage(cam, pose, d, b.x + b.width, b.y + b.height),
  ];
  const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  return { x: x0, y: y0, width: Math.max(...xs) - x0, height: Math.max(...ys) - y0 };
}

const sinc = (x: number): number => (Math.abs(x) < 1e-6 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** Camera response to a grating of frequency (fx, fy) cycles/pixel: pixel aperture × optics. */
function attenuation(fx: number, fy: number, fc: number): number {
  const m = 1 - Math.hypot(fx, fy) / fc;
  return m <= 0 ? 0 : sinc(0.9 * fx) * sinc(0.9 * fy) * m * Math.sqrt(m);
}

const mtf = (f: number, fc: number): number => { const m = 1 - f / fc; return m <= 0 ? 0 : m * Math.sqrt(m); };

export function drawDevice(c: Canvas, cam: Intrinsics, pose: PlanePose, d: DeviceSpec, optics: CameraOptics, flash?: Flash): void {
  const R = poseMatrix(pose);
  // plane normal (third column) and in-plane axes (first two columns)
  const ax = [R[0], R[3], R[6]], ay = [R[1], R[4], R[7]], n = [R[2], R[5], R[8]];
  const nT = n[0]! * pose.x + n[1]! * pose.y + n[2]! * pose.z;
  const corners = [[-1, -1], [1, -1], [-1, 1], [1, 1]].map(([sx, sy]) => planeToImage(cam, pose, (sx! * d.width) / 2, (sy! * d.height) / 2));
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x)) - 2));
  const x1 = Math.min(c.width - 1, Math.ceil(Math.max(...corners.map((p) => p.x)) + 2));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y)) - 2));
  const y1 = Math.min(c.height - 1, Math.ceil(Math.max(...corners.map((p) => p.y)) + 2));
  const uv = (x: number, y: number, out: Point): Point => {
    const dx = (x - cam.cx) / cam.f, dy = (y - cam.cy) / cam.f;
    const t = nT / (n[0]! * dx + n[1]! * dy + n[2]!);
    const X = t * dx - pose.x, Y = t * dy - pose.y, Z = t - pose.z;
    out.x = ax[0]! * X + ax[1]! * Y + ax[2]! * Z;
    out.y = ay[0]! * X + ay[1]! * Y + ay[2]! * Z;
    return out;
  };
  const p: Point = { x: 0, y: 0 }, px: Point = { x: 0, y: 0 }, py: Point = { x: 0, y: 0 };
  const col: Colour = [0, 0, 0];
  const look = d.look;
  const halfW = d.width / 2, halfH = d.height / 2;
  const grainCell = 0.25; // mm
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      uv(x, y, p); uv(x + 1, y, px); uv(x, y + 1, py);
      const dux = px.x - p.x, dvx = px.y - p.y, duy = py.x - p.x, dvy = py.y - p.y;
      const k = Math.sqrt(Math.abs(dux * dvy - dvx * duy)) || 1e-3; // mm per pixel
      // body (rounded rectangle) coverage
      const qx = Math.abs(p.x) - halfW + d.radius, qy = Math.abs(p.y) - halfH + d.radius;
      const sdBody = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - d.radius;
      const aBody = coverage(sdBody / k);
      if (aBody <= 0) continue;
      // content area coverage
      const cu = p.x - d.cu, cv = p.y - d.cv;
      const sdC = Math.max(Math.abs(cu) - d.cw / 2, Math.abs(cv) - d.ch / 2);
      const aC = coverage(sdC / k);
      let r = d.body[0], g = d.body[1], b = d.body[2];
      // a little shading on the body
      const bodyShade = 1 + 0.15 * (p.y / d.height);
      r *= bodyShade; g *= bodyShade; b *= bodyShade;
      if (aC > 0) {
        sampleCanvas(d.content, (cu / d.cw + 0.5) * d.content.width - 0.5, (cv / d.ch + 0.5) * d.content.height - 0.5, col);
        let cr: number, cg: number, cb: number;
        if (look.kind === 'screen') {
          const P = look.pitch;
          const fu = [dux / P, duy / P], fv = [dvx / P, dvy / P];
          const mod = [1, 1, 1];
          const eu = Math.hypot(fu[0]!, fu[1]!), ev = Math.hypot(fv[0]!, fv[1]!);
          let row = 1;
          if (ev < optics.fc) {
            for (let h = 1; h <= 2; h++) row += 2 * sinc(h * look.rowFill) * sinc(0.9 * h * fv[0]!) * sinc(0.9 * h * fv[1]!) * mtf(h * ev, optics.fc) * Math.cos(2 * Math.PI * h * (p.y / P));
          }
          if (eu < optics.fc) {
            for (let ch = 0; ch < 3; ch++) {
              let m = 1;
              for (let h = 1; h <= 3; h++) {
                m += 2 * sinc(h * look.duty) * sinc(0.9 * h * fu[0]!) * sinc(0.9 * h * fu[1]!) * mtf(h * eu, optics.fc) * Math.cos(2 * Math.PI * h * (p.x / P - (ch + 0.5) / 3));
              }
              mod[ch] = Math.max(0, m * row);
            }
          } else {
            mod[0] = mod[1] = mod[2] = Math.max(0, row);
          }
          cr = (look.black + look.brightness * look.tint[0] * col[0]) * mod[0]! + look.reflection;
          cg = (look.black + look.brightness * look.tint[1] * col[1]) * mod[1]! + look.reflection;
          cb = (look.black + look.brightness * look.tint[2] * col[2]) * mod[2]! + look.reflection;
          if (flash) { cr += 0.04 * flash.gain * flash.colour[0]; cg += 0.04 * flash.gain * flash.colour[1]; cb += 0.04 * flash.gain * flash.colour[2]; }
        } else {
          const l = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2];
          const ink = [l + look.saturation * (col[0] - l), l + look.saturation * (col[1] - l), l + look.saturation * (col[2] - l)];
          const illum = look.illumination * (1 + look.gx * p.x + look.gy * p.y);
          const grain = 1 + look.grain * hashNoise(p.x / grainCell, p.y / grainCell);
          const out = [0, 0, 0];
          for (let ch = 0; ch < 3; ch++) {
            let refl = look.black + (look.white - look.black) * Math.min(1, Math.max(0, ink[ch]!));
            if (look.lpmm > 0) {
              const ang = [0.2618, 1.309, 0][ch]!; // 15°, 75°, 0° screens for C, M, Y
              const s = p.x * Math.cos(ang) + p.y * Math.sin(ang), t = -p.x * Math.sin(ang) + p.y * Math.cos(ang);
              const f = Math.SQRT2 * look.lpmm * k;
              const cov = 1 - refl / look.white;
              refl *= 1 + 0.9 * Math.sin(Math.PI * Math.min(1, Math.max(0, cov))) * attenuation(f / Math.SQRT2, f / Math.SQRT2, optics.fc) * Math.cos(2 * Math.PI * look.lpmm * s) * Math.cos(2 * Math.PI * look.lpmm * t);
            }
            let v = refl * look.paper[ch]! * illum * grain;
            if (flash) v += flash.gain * flash.colour[ch]! * refl * Math.abs(n[2]!);
            out[ch] = v;
          }
          cr = out[0]!; cg = out[1]!; cb = out[2]!;
        }
        r = r * (1 - aC) + cr * aC; g = g * (1 - aC) + cg * aC; b = b * (1 - aC) + cb * aC;
      }
      if (d.glare) {
        const G = d.glare;
        const gu = p.x - G.u, gv = p.y - G.v;
        const ca = Math.cos(G.angle), sa = Math.sin(G.angle);
        const e = ((gu * ca + gv * sa) / G.ru) ** 2 + ((-gu * sa + gv * ca) / G.rv) ** 2;
        const gl = G.peak * Math.exp(-e * 2);
        r += gl; g += gl; b += gl;
      }
      col[0] = r; col[1] = g; col[2] = b;
      blend(c, y * c.width + x, col, aBody);
    }
  }
}

/** Deterministic value noise on a lattice, about N(0, 0.5). */
function hashNoise(x: number, y: number): number {
  const xi = Math.floor(x), yi = Math.floor(y), fx = x - xi, fy = y - yi;
  const h = (i: number, j: number) => {
    let s = (i * 374761393 + j * 668265263) | 0;
    s = Math.imul(s ^ (s >>> 13), 1274126177);
    return ((s ^ (s >>> 16)) & 0xffff) / 32768 - 1;
  };
  const a = h(xi, yi), b = h(xi + 1, yi), c = h(xi, yi + 1), d = h(xi + 1, yi + 1);
  return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
}
