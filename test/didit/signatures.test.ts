import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalJsonFromRaw,
  hmacSha256Hex,
  signWebhook,
  simpleSignatureInput,
  verifyWebhook,
  wireJson,
  type SignableWebhook,
} from '../../src/didit/index.ts';

type Vectors = {
  secret: string;
  timestamp: number;
  session_id: string;
  cases: Record<string, { body: string; signatures: { raw: string; v2: string; simple: string } }>;
};

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const vectors = JSON.parse(
  readFileSync(path.resolve(repoRoot, '..', 'shared', 'didit', 'webhook-signatures.json'), 'utf8'),
) as Vectors;
const { secret, timestamp } = vectors;
const cases = Object.entries(vectors.cases);

describe('the shared vectors', () => {
  it('holds the 8 cases (24 signatures) this suite is written against', () => {
    expect(cases).toHaveLength(8);
  });

  describe.each(cases)('%s', (_name, { body, signatures }) => {
    const parsed = JSON.parse(body) as SignableWebhook;

    it('raw: HMAC of the body bytes', () => {
      expect(hmacSha256Hex(secret, Buffer.from(body, 'utf8'))).toBe(signatures.raw);
    });

    it('v2: HMAC of the canonicalised body', () => {
      expect(hmacSha256Hex(secret, canonicalJsonFromRaw(body))).toBe(signatures.v2);
      expect(hmacSha256Hex(secret, canonicalJson(parsed))).toBe(signatures.v2);
    });

    it('simple: HMAC of timestamp:session_id:status:webhook_type', () => {
      expect(hmacSha256Hex(secret, simpleSignatureInput(parsed))).toBe(signatures.simple);
    });

    it('signWebhook reproduces the wire body and all three headers', () => {
      expect(wireJson(parsed)).toBe(body);
      const signed = signWebhook(parsed, secret);
      expect(signed.body).toBe(body);
      expect(signed.headers).toEqual({
        'X-Signature': signatures.raw,
        'X-Signature-V2': signatures.v2,
        'X-Signature-Simple': signatures.simple,
        'X-Timestamp': String(timestamp),
      });
    });

    it('verifyWebhook accepts it with its v2 signature at the vector timestamp', () => {
      const result = verifyWebhook(body, { 'X-Signature-V2': signatures.v2, 'X-Timestamp': String(timestamp) }, secret, {
        now: timestamp,
      });
      expect(result).toMatchObject({ ok: true, verifiedBy: 'X-Signature-V2' });
      if (result.ok) expect(result.payload).toEqual(parsed);
    });
  });

  it('differ between raw and v2 only for the non-ASCII case', () => {
    const differing = cases.filter(([, c]) => c.signatures.raw !== c.signatures.v2).map(([name]) => name);
    expect(differing).toEqual(['unicode_names']);
  });
});

describe('verifyWebhook rejections', () => {
  const [, basic] = cases.find(([name]) => name === 'basic_approved')!;
  const body = basic.body;
  const all = {
    'X-Signature': basic.signatures.raw,
    'X-Signature-V2': basic.signatures.v2,
    'X-Signature-Simple': basic.signatures.simple,
    'X-Timestamp': String(timestamp),
  };
  const at = { now: timestamp };

  it('rejects a body with one flipped byte', () => {
    const bytes = Buffer.from(body, 'utf8');
    const i = bytes.indexOf('Approved');
    bytes[i] = bytes[i]! ^ 0x01;
    expect(verifyWebhook(bytes, all, secret, at)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects the wrong secret', () => {
    expect(verifyWebhook(body, all, 'wh_test_secret_wrong', at)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a timestamp more than 300 s old and accepts one exactly 300 s old', () => {
    expect(verifyWebhook(body, all, secret, { now: timestamp + 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyWebhook(body, all, secret, { now: timestamp + 300 }).ok).toBe(true);
  });

  it('rejects a timestamp more than 300 s in the future', () => {
    expect(verifyWebhook(body, all, secret, { now: new Date((timestamp - 301) * 1000) })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(verifyWebhook(body, all, secret, { now: timestamp - 300 }).ok).toBe(true);
  });

  it('honours maxSkewSeconds', () => {
    expect(verifyWebhook(body, all, secret, { now: timestamp + 61, maxSkewSeconds: 60 })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it('checks against the real clock by default', () => {
    expect(verifyWebhook(body, all, secret)).toEqual({ ok: false, reason: 'stale_timestamp' });
    const fresh = signWebhook({ ...JSON.parse(body), timestamp: Math.floor(Date.now() / 1000) }, secret);
    expect(verifyWebhook(fresh.body, fresh.headers, secret).ok).toBe(true);
  });

  it('reports missing signatures, and does not accept X-Signature-Simple alone', () => {
    expect(verifyWebhook(body, {}, secret, at)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verifyWebhook(body, { 'X-Timestamp': String(timestamp), 'X-Signature-Simple': basic.signatures.simple }, secret, at)).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
  });

  it('rejects garbage hex without throwing', () => {
    for (const garbage of ['z'.repeat(64), 'not a signature', '', '🙂'.repeat(32), `${basic.signatures.v2}00`]) {
      expect(verifyWebhook(body, { 'X-Signature-V2': garbage, 'X-Signature': garbage }, secret, at)).toEqual({
        ok: false,
        reason: garbage === '' ? 'missing_signature' : 'bad_signature',
      });
    }
  });

  it('rejects truncated signatures', () => {
    for (const length of [63, 62, 32, 2]) {
      const headers = { 'X-Signature-V2': basic.signatures.v2.slice(0, length), 'X-Signature': basic.signatures.raw.slice(0, length) };
      expect(verifyWebhook(body, headers, secret, at)).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('rejects an X-Timestamp that differs from the signed body timestamp', () => {
    expect(verifyWebhook(body, { ...all, 'X-Timestamp': String(timestamp + 1) }, secret, at)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verifyWebhook(body, { ...all, 'X-Timestamp': 'soon' }, secret, at)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects a correctly signed body that is not a status.updated envelope', () => {
    const other = signWebhook({ ...JSON.parse(body), webhook_type: 'data.updated' }, secret);
    expect(verifyWebhook(other.body, other.headers, secret, at)).toEqual({ ok: false, reason: 'malformed' });
    const noTimestamp = '{"session_id":"x"}';
    expect(verifyWebhook(noTimestamp, { 'X-Signature': hmacSha256Hex(secret, noTimestamp) }, secret, at)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    const notJson = 'hello';
    expect(verifyWebhook(notJson, { 'X-Signature': hmacSha256Hex(secret, notJson) }, secret, at)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('treats an unsigned non-JSON body as a bad signature, not a crash', () => {
    expect(verifyWebhook('{{{', all, secret, at)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(Buffer.from([0xff, 0xfe, 0x00]), all, secret, at)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses to verify with an empty secret', () => {
    expect(() => verifyWebhook(body, all, '', at)).toThrow(TypeError);
    expect(() => signWebhook(JSON.parse(body), '')).toThrow(TypeError);
  });
});

describe('verifyWebhook fallbacks and inputs', () => {
  const [, unicode] = cases.find(([name]) => name === 'unicode_names')!;
  const at = { now: timestamp };

  it('falls back to X-Signature when V2 does not match', () => {
    const headers = { 'X-Signature-V2': 'ab'.repeat(32), 'X-Signature': unicode.signatures.raw };
    expect(verifyWebhook(unicode.body, headers, secret, at)).toMatchObject({ ok: true, verifiedBy: 'X-Signature' });
  });

  it('accepts V2 after the body was re-serialised in transit (unescaped, indented, reordered)', () => {
    const parsed = JSON.parse(unicode.body) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(parsed).reverse());
    for (const reserialised of [canonicalJson(parsed), JSON.stringify(reordered, null, 2)]) {
      expect(reserialised).not.toBe(unicode.body);
      expect(verifyWebhook(reserialised, { 'X-Signature-V2': unicode.signatures.v2 }, secret, at).ok).toBe(true);
      expect(verifyWebhook(reserialised, { 'X-Signature': unicode.signatures.raw }, secret, at)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('accepts a sender that wrote whole floats with a decimal point', () => {
    const [, floats] = cases.find(([name]) => name === 'float_scores')!;
    const withPoints = floats.body.replace('"threshold":100', '"threshold":100.0').replace('"threshold":0', '"threshold":0.0');
    expect(withPoints).not.toBe(floats.body);
    expect(verifyWebhook(withPoints, { 'X-Signature-V2': floats.signatures.v2 }, secret, at).ok).toBe(true);
  });

  it('reads Buffer bodies, Node lowercase headers, header arrays, fetch Headers and uppercase hex', () => {
    const buffer = Buffer.from(unicode.body, 'utf8');
    const lower = { 'x-signature-v2': unicode.signatures.v2.toUpperCase(), 'x-timestamp': String(timestamp) };
    expect(verifyWebhook(buffer, lower, secret, at).ok).toBe(true);
    expect(verifyWebhook(buffer, { 'x-signature': [unicode.signatures.raw] }, secret, at).ok).toBe(true);
    expect(verifyWebhook(buffer, { 'x-signature': [unicode.signatures.raw, unicode.signatures.raw] }, secret, at).ok).toBe(false);
    const fetchHeaders = new Headers({ 'X-Signature-V2': unicode.signatures.v2 });
    expect(verifyWebhook(new Uint8Array(buffer), fetchHeaders, secret, at).ok).toBe(true);
  });
});
