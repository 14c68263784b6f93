// Enrolment portraits, kept by the IdP only when the verification service keeps no templates of
// its own (the real Didit): each login then sends the portrait as `portrait_image`. Encrypted with
// AES-256-GCM under PORTRAIT_KEY, a key separate from token signing and cookie keys; the account
// id is bound in as associated data so one account's ciphertext cannot be replayed as another's.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.ts';

type Sealed = { v: 1; iv: string; tag: string; data: string };
const key = (accountId: string) => `portrait:${accountId}`;

export class PortraitVault {
  readonly #store: Store;
  readonly #key: Buffer;
  constructor(store: Store, key32: Buffer) {
    if (key32.length !== 32) throw new Error('PORTRAIT_KEY must be 32 bytes');
    this.#store = store;
    this.#key = key32;
  }

  async save(accountId: string, jpeg: Buffer): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(accountId));
    const data = Buffer.concat([cipher.update(jpeg), cipher.final()]);
    const sealed: Sealed = { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    await this.#store.set(key(accountId), sealed);
  }

  async load(accountId: string): Promise<Buffer | undefined> {
    const sealed = await this.#store.get<Sealed>(key(accountId));
    if (!sealed) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(accountId));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  }

  async delete(accountId: string): Promise<void> {
    await this.#store.delete(key(accountId));
  }
}
