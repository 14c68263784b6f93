/** The speed-ups of the PASSIVE hot paths must give exactly the values of the straightforward code. */
import { describe, expect, it } from 'vitest';
import { accumulatePowerSpectrum2d, powerSpectrum2d } from '../../src/liveness/fft.ts';
import { binGrey, binnedGreyOf, blurGrey, greyOf } from '../../src/liveness/image.ts';
import { buildPyramid, LKTemplates, noiseSigma, trackLK } from '../../src/liveness/track.ts';
import type { GreyImage, RgbImage } from '../../src/liveness/types.ts';

function rng(seed: number) { let s = seed >>> 0; return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32); }
function rgb(w: number, h: number, seed: number): RgbImage {
  const r = rng(seed), data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(128 + 60 * Math.sin(x / (5 + c) + y / 7) + 30 * r())));
  return { data, width: w, height: h };
}
/** The original blur: column-wise vertical pass with a float32 line buffer. */
function blurRef(g: GreyImage, sigma: number): GreyImage {
  const r = Math.max(1, Math.ceil(sigma * 2.5));
  const k = new Float32Array(2 * r + 1);
  let ks = 0;
  for (let i = -r; i <= r; i++) ks += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= ks;
  const { width: w, height: h } = g;
  const tmp = new Float32Array(w * h), out = new Float32Array(w * h), line = new Float32Array(Math.max(w, h) + 2 * r);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < r; i++) { line[i] = g.data[y * w]!; line[r + w + i] = g.data[y * w + w - 1]!; }
    for (let x = 0; x < w; x++) line[r + x] = g.data[y * w + x]!;
    for (let x = 0; x < w; x++) { let s = 0; for (let i = 0; i < k.length; i++) s += k[i]! * line[x + i]!; tmp[y * w + x] = s; }
  }
  for (let x = 0; x < w; x++) {
    for (let i = 0; i < r; i++) { line[i] = tmp[x]!; line[r + h + i] = tmp[(h - 1) * w + x]!; }
    for (let y = 0; y < h; y++) line[r + y] = tmp[y * w + x]!;
    for (let y = 0; y < h; y++) { let s = 0; for (let i = 0; i < k.length; i++) s += k[i]! * line[y + i]!; out[y * w + x] = s; }
  }
  return { data: out, width: w, height: h };
}

describe('PASSIVE fast paths', () => {
  const img = rgb(97, 61, 7);
  it('blurGrey equals the column-wise reference for the unrolled and generic kernels', () => {
    const g = greyOf(img);
    for (const sigma of [0.6, 1, 1.5, 2.2]) expect(blurGrey(g, sigma).data).toEqual(blurRef(g, sigma).data);
  });
  it('binnedGreyOf equals binGrey(greyOf(·))', () => {
    expect(binnedGreyOf(rgb(97, 61, 7), 2).data).toEqual(binGrey(greyOf(img), 2).data);
    expect(binnedGreyOf(img, 3).data).toEqual(binGrey(greyOf(img), 3).data);
    expect(binnedGreyOf(img, 1)).toBe(binnedGreyOf(img, 1));
  });
  it('noiseSigma (quickselect) equals the median of the sorted filter responses', () => {
    const g = greyOf(img), d = g.data, w = g.width, vals: number[] = [];
    for (let y = 1; y < g.height - 1; y += 2) for (let x = 1; x < w - 1; x += 2) {
      const i = y * w + x;
      vals.push(Math.abs(d[i - w - 1]! - 2 * d[i - w]! + d[i - w + 1]! - 2 * d[i - 1]! + 4 * d[i]! - 2 * d[i + 1]! + d[i + w - 1]! - 2 * d[i + w]! + d[i + w + 1]!));
    }
    vals.sort((a, b) => a - b);
    expect(noiseSigma(g)).toBe((1.4826 * vals[vals.length >> 1]!) / 6);
  });
  it('trackLK gives the same tracks with cached reference templates', () => {
    const a = buildPyramid(greyOf(rgb(120, 90, 3)), 2), pts = [{ x: 40, y: 30 }, { x: 61, y: 47 }, { x: 80.5, y: 52.25 }, { x: 3, y: 2 }];
    const tpl = new LKTemplates();
    for (const seed of [4, 5]) {
      const b = buildPyramid(greyOf(rgb(120, 90, seed)), 2);
      expect(trackLK(a, b, pts, { templates: tpl })).toEqual(trackLK(a, b, pts));
    }
  });
  it('accumulatePowerSpectrum2d adds powerSpectrum2d', () => {
    const r = rng(9), patch = Float64Array.from({ length: 256 }, () => r() * 255);
    const acc = new Float64Array(256);
    accumulatePowerSpectrum2d(patch, 16, acc);
    expect(acc).toEqual(powerSpectrum2d(patch, 16));
  });
});
