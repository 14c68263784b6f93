// The in-repo QR encoder: known answers for its arithmetic (Reed–Solomon, BCH format and version
// information) and a round trip through an independent reader written from the standard's
// module layout, for each version a session URL can need.
import { describe, expect, it } from 'vitest';
import { encodeData, formatBits, gfMultiply, interleave, qrMatrix, qrSvg, rsRemainder, versionBits } from '../../src/verifier/page/qr.ts';

describe('QR arithmetic', () => {
  it('GF(256) multiplication', () => {
    expect(gfMultiply(0, 7)).toBe(0);
    expect(gfMultiply(1, 0x53)).toBe(0x53);
    expect(gfMultiply(2, 0x80)).toBe(0x1d); // x·x^7 = x^8 ≡ x^4+x^3+x^2+1
  });

  it('Reed–Solomon: the HELLO WORLD 1-M example of the standard', () => {
    const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17];
    expect(rsRemainder(data, 10)).toEqual([196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
  });

  it('format and version information', () => {
    expect(formatBits(0).toString(2).padStart(15, '0')).toBe('101010000010010');
    expect(formatBits(1).toString(2).padStart(15, '0')).toBe('101000100100101');
    expect(formatBits(5).toString(2).padStart(15, '0')).toBe('100000011001110');
    expect(formatBits(7).toString(2).padStart(15, '0')).toBe('100101010100000');
    expect(versionBits(7).toString(2).padStart(18, '0')).toBe('000111110010010100');
    expect(versionBits(10).toString(2).padStart(18, '0')).toBe('001010010011010011');
  });

  it('pads data with 0xEC 0x11 to the version capacity', () => {
    const cw = encodeData(new TextEncoder().encode('A'), 1);
    expect(cw).toHaveLength(16);
    expect(cw.slice(0, 3)).toEqual([0x40, 0x14, 0x10]);
    expect(cw.slice(3, 7)).toEqual([0xec, 0x11, 0xec, 0x11]);
  });
});

// ---- an independent reader: function modules from the standard, then zigzag, unmask, de-interleave ----

const ALIGN: Record<number, number[]> = { 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34], 7: [6, 22, 38], 8: [6, 24, 42], 9: [6, 26, 46], 10: [6, 28, 50] };
const BLOCKS: Record<number, [number, number[]]> = {
  1: [10, [16]], 2: [16, [28]], 3: [26, [44]], 4: [18, [32, 32]], 5: [24, [43, 43]], 6: [16, [27, 27, 27, 27]],
  7: [18, [31, 31, 31, 31]], 8: [22, [38, 38, 39, 39]], 9: [22, [36, 36, 36, 37, 37]], 10: [26, [43, 43, 43, 43, 44]],
};

function isFunction(version: number, size: number, x: number, y: number): boolean {
  if ((x < 9 && y < 9) || (x >= size - 8 && y < 9) || (x < 9 && y >= size - 8)) return true; // finders, separators, format
  if (x === 6 || y === 6) return true;
  const pos = ALIGN[version] ?? [];
  for (const ax of pos) for (const ay of pos) {
    if ((ax === 6 && ay === 6) || (ax === 6 && ay === pos.at(-1)) || (ax === pos.at(-1) && ay === 6)) continue;
    if (Math.abs(x - ax) <= 2 && Math.abs(y - ay) <= 2) return true;
  }
  if (version >= 7 && ((x >= size - 11 && x < size - 8 && y < 6) || (y >= size - 11 && y < size - 8 && x < 6))) return true;
  return false;
}

function read(m: boolean[][]): { text: string; mask: number; ecl: number } {
  const size = m.length;
  const version = (size - 17) / 4;
  let fmt = 0;
  const coords: [number, number][] = [[8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8], [7, 8], [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8]];
  coords.forEach(([x, y], i) => (fmt |= (m[y]![x] ? 1 : 0) << i));
  let fmt2 = 0;
  for (let i = 0; i < 8; i++) fmt2 |= (m[8]![size - 1 - i] ? 1 : 0) << i;
  for (let i = 8; i < 15; i++) fmt2 |= (m[size - 15 + i]![8] ? 1 : 0) << i;
  expect(fmt2).toBe(fmt);
  const info = (fmt ^ 0x5412) >> 10;
  const ecl = info >> 3;
  const mask = info & 7;
  const masks = [
    (x: number, y: number) => (x + y) % 2 === 0, (_x: number, y: number) => y % 2 === 0, (x: number) => x % 3 === 0,
    (x: number, y: number) => (x + y) % 3 === 0, (x: number, y: number) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
    (x: number, y: number) => ((x * y) % 2) + ((x * y) % 3) === 0, (x: number, y: number) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
    (x: number, y: number) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
  ];
  const bits: number[] = [];
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let vert = 0; vert < size; vert++) {
      const y = upward ? size - 1 - vert : vert;
      for (const x of [right, right - 1]) if (!isFunction(version, size, x, y)) bits.push((m[y]![x] ? 1 : 0) ^ (masks[mask]!(x, y) ? 1 : 0));
    }
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  const [ec, lens] = BLOCKS[version]!;
  const blocks: number[][] = lens.map(() => []);
  let k = 0;
  for (let i = 0; i < Math.max(...lens); i++) lens.forEach((len, b) => i < len && blocks[b]!.push(bytes[k++]!));
  const eccs: number[][] = lens.map(() => []);
  for (let i = 0; i < ec; i++) lens.forEach((_l, b) => eccs[b]!.push(bytes[k++]!));
  blocks.forEach((b, i) => expect(rsRemainder(b, ec)).toEqual(eccs[i]));
  const data = blocks.flat();
  const bitsOf = data.flatMap((b) => [7, 6, 5, 4, 3, 2, 1, 0].map((s) => (b >> s) & 1));
  const take = (n: number, at: number) => bitsOf.slice(at, at + n).reduce((a, b) => (a << 1) | b, 0);
  expect(take(4, 0)).toBe(0b0100);
  const countBits = version < 10 ? 8 : 16;
  const count = take(countBits, 4);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = take(8, 4 + countBits + i * 8);
  return { text: new TextDecoder().decode(out), mask, ecl };
}

describe('QR symbols', () => {
  const urls = [
    'https://x.io',
    'http://localhost:3100/session/abcdefghijklmnopqrstuvwx?handoff=1',
    `https://verify.example.com/session/${'A'.repeat(24)}?handoff=1&pad=${'p'.repeat(60)}`,
    `https://verify.example.com/${'z'.repeat(180)}`,
  ];

  it.each(urls)('round-trips %s at level M with valid finder, timing and dark module', (url) => {
    const m = qrMatrix(url);
    const size = m.length;
    expect((size - 17) % 4).toBe(0);
    const { text, ecl } = read(m);
    expect(text).toBe(url);
    expect(ecl).toBe(0); // M
    for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
      expect(m[cy]![cx]).toBe(true);
      expect(m[cy]![cx + 2]).toBe(false);
      expect(m[cy]![cx + 3]).toBe(true);
    }
    for (let i = 8; i < size - 8; i++) expect(m[6]![i]).toBe(i % 2 === 0);
    expect(m[size - 8]![8]).toBe(true);
  });

  it('picks the smallest version and refuses what does not fit version 10', () => {
    expect(qrMatrix('hello')).toHaveLength(21);
    expect(qrMatrix('x'.repeat(213))).toHaveLength(57);
    expect(() => qrMatrix('x'.repeat(214))).toThrow(RangeError);
  });

  it('renders an accessible SVG with a quiet zone', () => {
    const svg = qrSvg('https://x.io', 'QR code "to" <phone>');
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-label="QR code &quot;to&quot; &lt;phone>"/);
    expect(svg).toContain('viewBox="0 0 29 29"');
  });

  it('interleaves blocks column by column', () => {
    const data = Array.from({ length: 154 }, (_, i) => i & 0xff);
    const out = interleave(data, 8);
    expect(out.slice(0, 4)).toEqual([0, 38, 76, 115]);
    expect(out).toHaveLength(242);
  });
});
