// Canonical JSON exactly as Didit's Python signer writes it:
//   json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=...)
// after every float that is a whole number has been turned into an int.
// V2 signatures cover the ensure_ascii=False form (canonicalJson); bodies travel in the
// ensure_ascii=True form (wireJson). Matching Python byte for byte is the whole point, so the
// places where JSON.stringify differs are handled here:
// - Key order: Python sorts by code point; JS objects list integer-like keys ("2", "10") first
//   in numeric order whatever order they were inserted in, and Array#sort compares UTF-16
//   units. Keys are sorted by code point and written out by hand.
// - Numbers: whole numbers are written as integers with all their digits (Python's int(4.0e21)
//   prints 4000000000000000000000, JS prints 4e+21). Other floats use Python's repr, which
//   switches to exponent form below 1e-4 with a two-digit exponent (1e-05, 1.5e-07) where JS
//   writes 0.00001 and 1.5e-7. Both pick the shortest round-tripping digits, so the digits
//   agree. Non-whole floats are always below 2^52, so Python's large-exponent form never occurs.
// - Raw bodies: integer literals beyond 2^53 stay exact in Python; canonicalJsonFromRaw keeps
//   each number's source text so they do here too.
// Known, accepted differences: a lone surrogate is escaped (\udxxx) in canonicalJson, where
// Python would emit it raw and then fail to encode the body, so no valid signature exists for
// it anyway; NaN and Infinity (Python's non-standard tokens) are refused with a TypeError.

/** A number as its JSON source text, so a raw body is canonicalised without losing digits. */
class NumberLiteral {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

const INTEGER_LITERAL = /^-?\d+$/;

/** Formats a JS number the way Python's json.dumps would after int()-ing whole floats. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot canonicalise non-finite number ${n}`);
  if (Number.isInteger(n)) {
    // String() is exact up to 2^53 and prints "0" for -0, as Python's int(-0.0) does.
    return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
  }
  if (Math.abs(n) < 1e-4) {
    return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(n);
}

function formatLiteral(source: string): string {
  if (INTEGER_LITERAL.test(source)) return BigInt(source).toString();
  return formatNumber(Number(source));
}

// Surrogates (D800–DFFF) stand for code points above FFFF, so they must sort after E000–FFFF.
function codePointOrderUnit(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrderUnit(x) - codePointOrderUnit(y);
  }
  return a.length - b.length;
}

function quote(s: string, ascii: boolean): string {
  // JSON.stringify escapes exactly what Python does with ensure_ascii=False (", \, controls
  // below 0x20 with \b\f\n\r\t short forms, lowercase \u00xx); ensure_ascii=True additionally
  // escapes everything outside 0x20–0x7E per UTF-16 unit, which yields surrogate pairs.
  const q = JSON.stringify(s);
  if (!ascii) return q;
  return q.replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function isSkipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function write(value: unknown, ascii: boolean, stack: Set<object>): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return quote(value, ascii);
    case 'object':
      break;
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
  if (value instanceof NumberLiteral) return formatLiteral(value.source);
  if (stack.has(value)) throw new TypeError('cannot canonicalise a circular structure');
  stack.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[' + value.map((item) => (isSkipped(item) ? 'null' : write(item, ascii, stack))).join(',') + ']';
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => !isSkipped(record[k]))
      .sort(compareCodePoints);
    out = '{' + keys.map((k) => quote(k, ascii) + ':' + write(record[k], ascii, stack)).join(',') + '}';
  }
  stack.delete(value);
  return out;
}

/** Sorted keys, compact, whole floats as integers, non-ASCII as UTF-8: the X-Signature-V2 input. */
export function canonicalJson(value: unknown): string {
  if (isSkipped(value)) throw new TypeError('cannot canonicalise undefined');
  return write(value, false, new Set());
}

/** canonicalJson with non-ASCII escaped as \uXXXX (Python's ensure_ascii): the body as sent. */
export function wireJson(value: unknown): string {
  if (isSkipped(value)) throw new TypeError('cannot canonicalise undefined');
  return write(value, true, new Set());
}

/**
 * Parses a raw JSON text and returns its canonical form, keeping every number's source digits
 * (so `4.0` becomes `4` and a 20-digit integer stays exact). Throws SyntaxError on bad JSON.
 */
export function canonicalJsonFromRaw(raw: string): string {
  const value: unknown = JSON.parse(raw, (_key: string, v: unknown, context?: { source?: string }) =>
    typeof v === 'number' && context?.source !== undefined ? new NumberLiteral(context.source) : v,
  );
  return canonicalJson(value);
}
