// A small QR code encoder (ISO/IEC 18004), so the "no camera here" screen can show the session
// URL as a QR code without a dependency or a network request. Byte mode, error correction level
// M, versions 1–10 (up to 213 bytes: a session URL is well under 100). Follows the structure of
// Project Nayuki's reference implementation; rendered as an inline SVG path.

/** Per version (index = version): total data codewords per block layout at level M. */
const BLOCKS_M: readonly { ec: number; groups: readonly [count: number, dataCodewords: number][] }[] = [
  { ec: 0, groups: [] },
  { ec: 10, groups: [[1, 16]] },
  { ec: 16, groups: [[1, 28]] },
  { ec: 26, groups: [[1, 44]] },
  { ec: 18, groups: [[2, 32]] },
  { ec: 24, groups: [[2, 43]] },
  { ec: 16, groups: [[4, 27]] },
  { ec: 18, groups: [[4, 31]] },
  { ec: 22, groups: [[2, 38], [2, 39]] },
  { ec: 22, groups: [[3, 36], [2, 37]] },
  { ec: 26, groups: [[4, 43], [1, 44]] },
];

const ALIGNMENT: readonly number[][] = [[], [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];

const EC_LEVEL_M_BITS = 0;

// --- Reed–Solomon over GF(2^8), polynomial x^8 + x^4 + x^3 + x^2 + 1 -----------------------------

export function gfMultiply(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

function rsDivisor(degree: number): number[] {
  const result = new Array<number>(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < degree; j++) {
      result[j] = gfMultiply(result[j]!, root);
      if (j + 1 < degree) result[j]! ^= result[j + 1]!;
    }
    root = gfMultiply(root, 0x02);
  }
  return result;
}

export function rsRemainder(data: readonly number[], degree: number): number[] {
  const divisor = rsDivisor(degree);
  const result = new Array<number>(degree).fill(0);
  for (const b of data) {
    const factor = b ^ result.shift()!;
    result.push(0);
    divisor.forEach((coef, i) => (result[i]! ^= gfMultiply(coef, factor)));
  }
  return result;
}

// --- BCH-coded format and version information -------------------------------------------------

export function formatBits(mask: number): number {
  const data = (EC_LEVEL_M_BITS << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ 0x5412;
}

export function versionBits(version: number): number {
  let rem = version;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (version << 12) | rem;
}

const bit = (x: number, i: number) => ((x >>> i) & 1) !== 0;

// --- Encoding ---------------------------------------------------------------------------------

function dataCapacity(version: number): number {
  return BLOCKS_M[version]!.groups.reduce((n, [count, cw]) => n + count * cw, 0);
}

/** Data codewords: mode, length, bytes, terminator, pad bytes. */
export function encodeData(bytes: Uint8Array, version: number): number[] {
  const bits: number[] = [];
  const push = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  push(0b0100, 4);
  push(bytes.length, version < 10 ? 8 : 16);
  for (const b of bytes) push(b, 8);
  const capacityBits = dataCapacity(version) * 8;
  push(0, Math.min(4, capacityBits - bits.length));
  while (bits.length % 8) bits.push(0);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; out.length < capacityBits / 8; pad ^= 0xec ^ 0x11) out.push(pad);
  return out;
}

/** Splits into blocks, adds each block's error correction, and interleaves. */
export function interleave(data: readonly number[], version: number): number[] {
  const { ec, groups } = BLOCKS_M[version]!;
  const blocks: number[][] = [];
  let offset = 0;
  for (const [count, cw] of groups) {
    for (let i = 0; i < count; i++) {
      blocks.push(data.slice(offset, offset + cw));
      offset += cw;
    }
  }
  const out: number[] = [];
  const longest = Math.max(...blocks.map((b) => b.length));
  for (let i = 0; i < longest; i++) for (const b of blocks) if (i < b.length) out.push(b[i]!);
  const ecc = blocks.map((b) => rsRemainder(b, ec));
  for (let i = 0; i < ec; i++) for (const e of ecc) out.push(e[i]!);
  return out;
}

class Matrix {
  readonly size: number;
  readonly dark: boolean[][];
  readonly fixed: boolean[][];
  constructor(size: number) {
    this.size = size;
    this.dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
    this.fixed = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  }
  setFixed(x: number, y: number, dark: boolean): void {
    this.dark[y]![x] = dark;
    this.fixed[y]![x] = true;
  }
}

function drawFunctionPatterns(m: Matrix, version: number): void {
  const size = m.size;
  for (let i = 0; i < size; i++) {
    m.setFixed(6, i, i % 2 === 0);
    m.setFixed(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx;
        const y = cy + dy;
        const dist = Math.max(Math.abs(dx), Math.abs(dy));
        if (x >= 0 && x < size && y >= 0 && y < size) m.setFixed(x, y, dist !== 2 && dist !== 4);
      }
    }
  }
  const pos = ALIGNMENT[version]!;
  for (let i = 0; i < pos.length; i++) {
    for (let j = 0; j < pos.length; j++) {
      const corner = (i === 0 && j === 0) || (i === 0 && j === pos.length - 1) || (i === pos.length - 1 && j === 0);
      if (corner) continue;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) m.setFixed(pos[i]! + dx, pos[j]! + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }
  drawFormat(m, 0); // reserves the format areas; redrawn with the chosen mask
  if (version >= 7) {
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      m.setFixed(a, b, bit(bits, i));
      m.setFixed(b, a, bit(bits, i));
    }
  }
}

function drawFormat(m: Matrix, mask: number): void {
  const bits = formatBits(mask);
  const size = m.size;
  for (let i = 0; i <= 5; i++) m.setFixed(8, i, bit(bits, i));
  m.setFixed(8, 7, bit(bits, 6));
  m.setFixed(8, 8, bit(bits, 7));
  m.setFixed(7, 8, bit(bits, 8));
  for (let i = 9; i < 15; i++) m.setFixed(14 - i, 8, bit(bits, i));
  for (let i = 0; i < 8; i++) m.setFixed(size - 1 - i, 8, bit(bits, i));
  for (let i = 8; i < 15; i++) m.setFixed(8, size - 15 + i, bit(bits, i));
  m.setFixed(8, size - 8, true);
}

function drawCodewords(m: Matrix, codewords: readonly number[]): void {
  const size = m.size;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - vert : vert;
        if (!m.fixed[y]![x] && i < codewords.length * 8) {
          m.dark[y]![x] = bit(codewords[i >>> 3]!, 7 - (i & 7));
          i++;
        }
      }
    }
  }
}

const MASKS: readonly ((x: number, y: number) => boolean)[] = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

function applyMask(m: Matrix, mask: number): void {
  for (let y = 0; y < m.size; y++) for (let x = 0; x < m.size; x++) if (!m.fixed[y]![x] && MASKS[mask]!(x, y)) m.dark[y]![x] = !m.dark[y]![x];
}

/** The standard's four penalty rules; the mask with the lowest total is used. */
export function penalty(dark: boolean[][]): number {
  const size = dark.length;
  let score = 0;
  const lines: boolean[][] = [];
  for (let i = 0; i < size; i++) {
    lines.push(dark[i]!);
    lines.push(dark.map((row) => row[i]!));
  }
  for (const line of lines) {
    let run = 1;
    for (let i = 1; i <= size; i++) {
      if (i < size && line[i] === line[i - 1]) run++;
      else {
        if (run >= 5) score += 3 + (run - 5);
        run = 1;
      }
    }
    // 1:1:3:1:1 finder-like pattern with four light modules on either side.
    for (let i = 0; i + 7 <= size; i++) {
      const core = line[i] && !line[i + 1] && line[i + 2] && line[i + 3] && line[i + 4] && !line[i + 5] && line[i + 6];
      if (!core) continue;
      const lightBefore = [1, 2, 3, 4].every((k) => i - k < 0 || !line[i - k]);
      const lightAfter = [7, 8, 9, 10].every((k) => i + k >= size || !line[i + k]);
      if (lightBefore || lightAfter) score += 40;
    }
  }
  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const c = dark[y]![x];
      if (dark[y]![x + 1] === c && dark[y + 1]![x] === c && dark[y + 1]![x + 1] === c) score += 3;
    }
  }
  const total = dark.reduce((n, row) => n + row.filter(Boolean).length, 0);
  const k = Math.ceil(Math.abs(total * 20 - size * size * 10) / (size * size)) - 1;
  score += Math.max(0, k) * 10;
  return score;
}

/** The module matrix (true = dark) for `text` at level M, smallest version that fits. */
export function qrMatrix(text: string): boolean[][] {
  const bytes = new TextEncoder().encode(text);
  let version = 1;
  while (version <= 10 && bytes.length > Math.floor((dataCapacity(version) * 8 - 4 - (version < 10 ? 8 : 16)) / 8)) version++;
  if (version > 10) throw new RangeError(`QR: ${bytes.length} bytes do not fit version 10-M`);
  const codewords = interleave(encodeData(bytes, version), version);
  const size = version * 4 + 17;

  let best: Matrix | undefined;
  let bestPenalty = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    const m = new Matrix(size);
    drawFunctionPatterns(m, version);
    drawCodewords(m, codewords);
    applyMask(m, mask);
    drawFormat(m, mask);
    const p = penalty(m.dark);
    if (p < bestPenalty) {
      best = m;
      bestPenalty = p;
    }
  }
  return best!.dark;
}

/** An SVG of the code with a 4-module quiet zone, one path, for inline use in a page. */
export function qrSvg(text: string, label: string): string {
  const dark = qrMatrix(text);
  const border = 4;
  const size = dark.length + border * 2;
  let d = '';
  dark.forEach((row, y) => row.forEach((on, x) => (d += on ? `M${x + border},${y + border}h1v1h-1z` : '')));
  const esc = label.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" role="img" aria-label="${esc}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
}
