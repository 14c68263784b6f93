// Expected strings below were produced by Python's json.dumps(sort_keys=True,
// separators=(',', ':'), ensure_ascii=False/True) after int()-ing whole floats, i.e. the signer.
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonFromRaw, compareCodePoints, formatNumber, wireJson } from '../../src/didit/index.ts';

const wireFromRaw = (raw: string): string => wireJson(JSON.parse(raw));

describe('whole-number floats', () => {
  it('writes 4.0, -2.0, 1e2, 0.0 and -0.0 from a raw body as integers', () => {
    const raw = '{"a":4.0,"b":-2.0,"c":1e2,"d":0.0,"e":-0.0,"f":-0}';
    expect(canonicalJsonFromRaw(raw)).toBe('{"a":4,"b":-2,"c":100,"d":0,"e":0,"f":0}');
  });

  it('gives the V2 input of a body whose sender wrote score 4.0 the same as one with 4', () => {
    expect(canonicalJsonFromRaw('{"score":4.0}')).toBe(canonicalJsonFromRaw('{"score":4}'));
    expect(canonicalJsonFromRaw('{"score":4.0}')).not.toBe('{"score":4.0}');
  });

  it('writes all digits of large whole numbers, as Python int() does', () => {
    expect(canonicalJsonFromRaw('[1e21]')).toBe('[1000000000000000000000]');
    expect(canonicalJson([1e21, 2 ** 60])).toBe('[1000000000000000000000,1152921504606846976]');
    expect(canonicalJsonFromRaw('[1.7976931348623157e308]')).toBe(
      '[179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368]',
    );
  });

  it('keeps integer literals beyond 2^53 exact when canonicalising a raw body', () => {
    expect(canonicalJsonFromRaw('{"n":12345678901234567890}')).toBe('{"n":12345678901234567890}');
  });
});

describe('other numbers follow Python repr', () => {
  it('matches Python for negatives, small exponents and shortest digits', () => {
    const raw = '[-1,-1.5,-0.001,-1e-7,1e-5,0.0001,1.5e-7,0.30000000000000004,123456.789,5e-324,0.1,100.25,2.5e-4]';
    expect(canonicalJsonFromRaw(raw)).toBe(
      '[-1,-1.5,-0.001,-1e-07,1e-05,0.0001,1.5e-07,0.30000000000000004,123456.789,5e-324,0.1,100.25,0.00025]',
    );
  });

  it('formats JS numbers the same way', () => {
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatNumber(1e-7)).toBe('1e-07');
    expect(formatNumber(-2.5e-10)).toBe('-2.5e-10');
    expect(formatNumber(96.15)).toBe('96.15');
  });

  it('refuses NaN and Infinity, which are not JSON', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(TypeError);
    expect(() => canonicalJsonFromRaw('[1e400]')).toThrow(TypeError);
  });
});

describe('structure', () => {
  it('sorts keys recursively inside nested arrays of objects and keeps array order', () => {
    const raw = '{"z":[{"b":1,"a":[{"d":null,"c":{}}]},[]],"y":{}}';
    expect(canonicalJsonFromRaw(raw)).toBe('{"y":{},"z":[{"a":[{"c":{},"d":null}],"b":1},[]]}');
    expect(canonicalJson({ w: [{ risk: 'b' }, { risk: 'a' }] })).toBe('{"w":[{"risk":"b"},{"risk":"a"}]}');
  });

  it('keeps nulls, empty objects and empty arrays', () => {
    expect(canonicalJson({ c: [], b: {}, a: null, d: [{}, [], null] })).toBe('{"a":null,"b":{},"c":[],"d":[{},[],null]}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('sorts integer-like keys as strings, not in JS object order', () => {
    const value = JSON.parse('{"a":3,"B":4,"10":5,"2":6}');
    expect(Object.keys(value)).toEqual(['2', '10', 'a', 'B']);
    expect(canonicalJson(value)).toBe('{"10":5,"2":6,"B":4,"a":3}');
  });

  it('sorts keys by code point, putting astral characters after U+FFFF', () => {
    const value = { '\u{1F600}': 2, '\uffff': 1 };
    expect(canonicalJson(value)).toBe('{"\uffff":1,"\u{1F600}":2}');
    expect(compareCodePoints('\uffff', '\u{1F600}')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
  });

  it('drops undefined members like JSON.stringify and uses toJSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: new Date(Date.UTC(2026, 10, 26, 10)) })).toBe(
      '{"b":[null],"c":"2026-11-26T10:00:00.000Z"}',
    );
  });

  it('refuses circular structures', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(TypeError);
  });
});

describe('strings', () => {
  const raw = String.raw`{"s":"\u0001\n\t\"\\/\u007f\u2028 Jos\u00e9 \ud83d\ude00"}`;

  it('leaves non-ASCII as UTF-8 in the canonical form, escaping only what Python escapes', () => {
    expect(canonicalJsonFromRaw(raw)).toBe('{"s":"\\u0001\\n\\t\\"\\\\/\u007f\u2028 José 😀"}');
  });

  it('escapes everything outside printable ASCII as lowercase \\uXXXX with surrogate pairs on the wire', () => {
    expect(wireFromRaw(raw)).toBe(String.raw`{"s":"\u0001\n\t\"\\/\u007f\u2028 Jos\u00e9 \ud83d\ude00"}`);
    expect(wireJson({ 'ключ': '北京' })).toBe(String.raw`{"\u043a\u043b\u044e\u0447":"\u5317\u4eac"}`);
  });

  it('does not escape slashes in URLs', () => {
    expect(canonicalJson({ u: 'https://a/b?x=a/b+c' })).toBe('{"u":"https://a/b?x=a/b+c"}');
  });
});
