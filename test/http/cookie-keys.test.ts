// The cookie signer Koa and oidc-provider are given (src/http/cookie-keys.ts): keygrip's signatures
// exactly, so cookies set before still verify, and the key that signed a cookie is found.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CookieKeys } from '../../src/http/cookie-keys.ts';

// keygrip 1.1's definition: HMAC-SHA1, base64 with / + = made URL-safe and the padding dropped.
const keygripSign = (data: string, key: string) =>
  createHmac('sha1', key)
    .update(data)
    .digest('base64')
    .replace(/\/|\+|=/g, (x) => ({ '/': '_', '+': '-', '=': '' })[x]!);

describe('CookieKeys', () => {
  const keys = new CookieKeys(['newest-key-0123456789', 'older-key-ünïcode']);

  it('signs as keygrip does, with the first key', () => {
    for (const data of ['_session=abc', '_interaction=xyz; path=/interaction/1', '']) {
      expect(keys.sign(data)).toBe(keygripSign(data, 'newest-key-0123456789'));
    }
  });

  it('tells which key signed, and refuses a wrong or truncated digest', () => {
    const data = '_session=abc';
    expect(keys.index(data, keygripSign(data, 'newest-key-0123456789'))).toBe(0);
    expect(keys.index(data, keygripSign(data, 'older-key-ünïcode'))).toBe(1);
    expect(keys.verify(data, keygripSign(data, 'older-key-ünïcode'))).toBe(true);
    expect(keys.index(data, keygripSign(data, 'another-key'))).toBe(-1);
    expect(keys.index(data, keygripSign(data, 'newest-key-0123456789').slice(0, -1))).toBe(-1);
    expect(keys.index('_session=abd', keygripSign(data, 'newest-key-0123456789'))).toBe(-1);
    expect(keys.verify(data, '')).toBe(false);
  });

  it('needs a key', () => {
    expect(() => new CookieKeys([])).toThrow(/Keys must be provided/);
  });
});
