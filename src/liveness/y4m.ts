/**
 * YUV4MPEG2 (y4m) reader and writer: the one video format read natively (no ffmpeg).
 * Header `YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg`, then per frame `FRAME[ params]\n` and the
 * planes. Chroma 420 (all siting variants), 422, 444 and mono are read; 420 is written.
 * Colour conversion: BT.601 limited range (what Chrome's fake camera and ffmpeg's y4m use).
 */
import type { RgbImage } from './types.ts';

export interface Y4mVideo {
  width: number;
  height: number;
  /** Frames per second from the F tag. */
  fps: number;
  frames: RgbImage[];
}

export class Y4mError extends Error {}

const MAX_FRAMES_DEFAULT = 600;

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

export function parseY4m(buf: Uint8Array, opts: { maxFrames?: number } = {}): Y4mVideo {
  const maxFrames = opts.maxFrames ?? MAX_FRAMES_DEFAULT;
  const nl = buf.indexOf(0x0a);
  if (nl < 0 || nl > 1024) throw new Y4mError('not a y4m file (no header line)');
  const header = new TextDecoder().decode(buf.subarray(0, nl));
  const tags = header.split(' ');
  if (tags[0] !== 'YUV4MPEG2') throw new Y4mError('not a y4m file (bad signature)');
  let width = 0, height = 0, fps = 30, chroma = '420';
  for (const t of tags.slice(1)) {
    const k = t[0], v = t.slice(1);
    if (k === 'W') width = Number(v);
    else if (k === 'H') height = Number(v);
    else if (k === 'F') {
      const [a, b] = v.split(':').map(Number);
      if (a && b) fps = a / b;
    } else if (k === 'C') chroma = v;
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width * height > 16_000_000) {
    throw new Y4mError(`bad y4m size ${width}x${height}`);
  }
  let cw: number, ch: number;
  if (chroma.startsWith('420')) { cw = Math.ceil(width / 2); ch = Math.ceil(height / 2); }
  else if (chroma.startsWith('422')) { cw = Math.ceil(width / 2); ch = height; }
  else if (chroma.startsWith('444') && !chroma.includes('alpha')) { cw = width; ch = height; }
  else if (chroma === 'mono') { cw = 0; ch = 0; }
  else throw new Y4mError(`unsupported y4m colour space C${chroma} (8-bit 420, 422, 444 and mono only)`);
  const ySize = width * height;
  const cSize = cw * ch;
  const frameSize = ySize + 2 * cSize;
  const frames: RgbImage[] = [];
  let pos = nl + 1;
  while (pos < buf.length && frames.length < maxFrames) {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 1024) throw new Y4mError('bad FRAME header');
    const tag = new TextDecoder().decode(buf.subarray(pos, Math.min(end, pos + 5)));
    if (tag !== 'FRAME') throw new Y4mError('bad FRAME header');
    pos = end + 1;
    if (pos + frameSize > buf.length) break; // truncated last frame: ignore it
    const Y = buf.subarray(pos, pos + ySize);
    const U = buf.subarray(pos + ySize, pos + ySize + cSize);
    const V = buf.subarray(pos + ySize + cSize, pos + frameSize);
    pos += frameSize;
    const out = new Uint8Array(ySize * 3);
    const sx = cw ? cw / width : 0, sy = ch ? ch / height : 0;
    for (let y = 0; y < height; y++) {
      // bilinear chroma upsampling (centre-sited): replication would add a 2-pixel chroma grid
      const fy = Math.min(ch - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const cy0 = Math.floor(fy), cy1 = Math.min(ch - 1, cy0 + 1), wy = fy - cy0;
      for (let x = 0; x < width; x++) {
        const yy = 1.164383 * (Y[y * width + x]! - 16);
        let r = yy, g = yy, b = yy;
        if (cw) {
          const fx = Math.min(cw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
          const cx0 = Math.floor(fx), cx1 = Math.min(cw - 1, cx0 + 1), wx = fx - cx0;
          const i00 = cy0 * cw + cx0, i01 = cy0 * cw + cx1, i10 = cy1 * cw + cx0, i11 = cy1 * cw + cx1;
          const u = (U[i00]! * (1 - wx) + U[i01]! * wx) * (1 - wy) + (U[i10]! * (1 - wx) + U[i11]! * wx) * wy - 128;
          const v = (V[i00]! * (1 - wx) + V[i01]! * wx) * (1 - wy) + (V[i10]! * (1 - wx) + V[i11]! * wx) * wy - 128;
          r = yy + 1.596027 * v;
          g = yy - 0.391762 * u - 0.812968 * v;
          b = yy + 2.017232 * u;
        }
        const o = (y * width + x) * 3;
        out[o] = clampByte(r); out[o + 1] = clampByte(g); out[o + 2] = clampByte(b);
      }
    }
    frames.push({ data: out, width, height });
  }
  if (!frames.length) throw new Y4mError('y4m file has no complete frame');
  return { width, height, fps, frames };
}

/** Encode RGB frames (all the same size, even width and height) as y4m 4:2:0. */
export function writeY4m(frames: readonly RgbImage[], fps = 30): Buffer {
  const first = frames[0];
  if (!first) throw new Y4mError('no frames');
  const { width, height } = first;
  if (width % 2 || height % 2) throw new Y4mError('y4m writer needs even width and height');
  const cw = width / 2, ch = height / 2;
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${Math.round(fps * 1000)}:1000 Ip A1:1 C420jpeg\n`);
  const parts: Buffer[] = [header];
  for (const f of frames) {
    if (f.width !== width || f.height !== height) throw new Y4mError('frames differ in size');
    const plane = Buffer.alloc(width * height + 2 * cw * ch);
    const d = f.data;
    for (let i = 0; i < width * height; i++) {
      const r = d[i * 3]!, g = d[i * 3 + 1]!, b = d[i * 3 + 2]!;
      plane[i] = clampByte(16 + 0.256788 * r + 0.504129 * g + 0.097906 * b);
    }
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        let r = 0, g = 0, b = 0;
        for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
          const o = ((2 * y + dy) * width + 2 * x + dx) * 3;
          r += d[o]!; g += d[o + 1]!; b += d[o + 2]!;
        }
        r /= 4; g /= 4; b /= 4;
        plane[width * height + y * cw + x] = clampByte(128 - 0.148223 * r - 0.290993 * g + 0.439216 * b);
        plane[width * height + cw * ch + y * cw + x] = clampByte(128 + 0.439216 * r - 0.367788 * g - 0.071427 * b);
      }
    }
    parts.push(Buffer.from('FRAME\n'), plane);
  }
  return Buffer.concat(parts);
}
