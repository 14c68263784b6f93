// Cookie signing keys for Koa and oidc-provider (their `keys`, where they take a Keygrip): the very
// signatures keygrip makes (HMAC, SHA-1 by default, base64url without padding: cookies already set
// stay valid), with each key imported once and the digests compared in constant time
// (crypto.timingSafeEqual). keygrip imported the key on every HMAC and compared with tsscmp, two
// more HMACs under fresh random bytes: most of the cookie work of a sign-in.
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export class CookieKeys {
  readonly #keys: KeyObject[];
  readonly #algorithm: string;

  constructor(keys: readonly (string | Buffer)[], algorithm = 'sha1') {
    if (keys.length === 0) throw new Error('Keys must be provided.');
    this.#keys = keys.map((k) => (typeof k === 'string' ? createSecretKey(k, 'utf8') : createSecretKey(k)));
    this.#algorithm = algorithm;
  }

  #sign(data: string, key: KeyObject): string {
    return createHmac(this.#algorithm, key).update(data).digest('base64url');
  }

  /** Signed with the first (newest) key. */
  sign(data: string): string {
    return this.#sign(data, this.#keys[0]!);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** Which key signed `data` (so that a cookie signed with an older key is re-signed), or -1. */
  index(data: string, digest: string): number {
    const given = Buffer.from(String(digest));
    for (let i = 0; i < this.#keys.length; i++) {
      const expected = Buffer.from(this.#sign(data, this.#keys[i]!));
      // The length of an HMAC digest is public; only equal lengths are compared, in constant time.
      if (given.length === expected.length && timingSafeEqual(given, expected)) return i;
    }
    return -1;
  }
}
