// Token signing keys and cookie keys: configured by the operator, or generated on first start
// and kept in the store (so every instance sharing the store signs with the same keys), sealed
// under KEYS_ENCRYPTION_KEY (key-cipher.ts).
//
// Rotation follows the order that lets relying parties never see an unknown kid:
//   1. a new key is *staged*: published in the JWKS, not yet used to sign;
//   2. at the next rotation the staged key becomes *current* (signs) and the old one *retired*
//      (still published, so tokens it signed keep verifying);
//   3. a retired key is removed once every token it could have signed has expired.
// `selfie-idp keys rotate` performs one step of that cycle; run it on a schedule.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { z } from 'zod';
import type { Json, Store } from '../store/index.ts';
import { isSealed } from './key-cipher.ts';
import type { KeyCipher } from './key-cipher.ts';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export type KeyStatus = 'staged' | 'current' | 'retired';

export type StoredKey = { kid: string; alg: SigningAlg; status: KeyStatus; created: number; retiredAt?: number; jwk: JWK };
type SigningKeyring = { keys: StoredKey[] };
type CookieKeyring = { keys: { value: string; created: number }[] };

const SIGNING_KEY = 'keys:signing';
const COOKIE_KEY = 'keys:cookies';
const COOKIE_KEYS_KEPT = 3;

/**
 * The key records in the store, sealed on every write. A plaintext record (written by versions
 * before encryption at rest) is still read; the loaders below re-write it sealed.
 */
export class KeyVault {
  readonly store: Store;
  readonly cipher: KeyCipher;
  constructor(store: Store, cipher: KeyCipher) {
    this.store = store;
    this.cipher = cipher;
  }

  async read<T>(name: string): Promise<{ value: T; sealed: boolean } | undefined> {
    const raw = await this.store.get(name);
    if (raw === undefined || raw === null) return undefined;
    if (isSealed(raw)) return { value: this.cipher.open<T>(name, raw), sealed: true };
    return { value: raw as T, sealed: false };
  }

  async write(name: string, value: unknown): Promise<void> {
    await this.store.set(name, this.cipher.seal(name, value as Json));
  }

  async writeIfAbsent(name: string, value: unknown): Promise<boolean> {
    return this.store.setIfAbsent(name, this.cipher.seal(name, value as Json));
  }

  /** Read, and seal a plaintext record in place (migration). */
  async readSealing<T>(name: string): Promise<{ value: T; migrated: boolean } | undefined> {
    const found = await this.read<T>(name);
    if (!found) return undefined;
    // Another process rotating at this very moment could lose its write here; rotation is an
    // operator's scheduled step and the migration happens once, at the first start after upgrade.
    if (!found.sealed) await this.write(name, found.value);
    return { value: found.value, migrated: !found.sealed };
  }
}

function needVault(vault: KeyVault | undefined): KeyVault {
  if (!vault) throw new Error('internal: keys from the store need a KeyVault');
  return vault;
}

export async function generateSigningKey(alg: SigningAlg, status: KeyStatus): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, status, created: Date.now(), jwk: { ...jwk, kid, alg, use: 'sig' } };
}

// current first: oidc-provider signs with the first key of a given alg.
const ORDER: Record<KeyStatus, number> = { current: 0, staged: 1, retired: 2 };
export function toJwks(keys: StoredKey[]): { keys: JWK[] } {
  return { keys: [...keys].sort((a, b) => ORDER[a.status] - ORDER[b.status]).map((k) => k.jwk) };
}

const jwksFileSchema = z.object({
  keys: z
    .array(z.looseObject({ kty: z.string(), d: z.string({ message: 'must be a private key (no "d")' }) }))
    .min(1)
    .refine((keys) => keys.some((k) => k.kty === 'RSA'), 'needs at least one RSA key (RS256 is the default for clients)'),
});

export type LoadedKeys = { jwks: { keys: JWK[] }; source: string; generated: boolean; migrated: boolean };

/** Signing keys for the provider: JWKS_FILE when set, else the store (generating on first start). */
export async function loadSigningKeys(vault: KeyVault | undefined, jwksFile: string | undefined): Promise<LoadedKeys> {
  if (jwksFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(jwksFile, 'utf8'));
    } catch (err) {
      throw new Error(`JWKS_FILE: cannot read ${jwksFile}: ${(err as Error).message}`);
    }
    const result = jwksFileSchema.safeParse(parsed);
    if (!result.success) throw new Error(`JWKS_FILE: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return { jwks: result.data as { keys: JWK[] }, source: `JWKS_FILE ${jwksFile}`, generated: false, migrated: false };
  }
  const keys = needVault(vault);
  const source = `store (${keys.store.description})`;
  const existing = await keys.readSealing<SigningKeyring>(SIGNING_KEY);
  if (existing?.value.keys.length) return { jwks: toJwks(existing.value.keys), source, generated: false, migrated: existing.migrated };

  const fresh: SigningKeyring = { keys: await Promise.all(SIGNING_ALGS.map((alg) => generateSigningKey(alg, 'current'))) };
  // Two instances starting together on an empty Redis: one write wins and both use it.
  const created = await keys.writeIfAbsent(SIGNING_KEY, fresh);
  const ring = created ? fresh : ((await keys.read<SigningKeyring>(SIGNING_KEY))?.value ?? fresh);
  return { jwks: toJwks(ring.keys), source, generated: created, migrated: false };
}

export type RotationReport = { promoted: string[]; staged: string[]; retired: string[]; removed: string[] };

/** One step of the rotation cycle; `retention` is how long a retired key stays published (seconds). */
export async function rotateSigningKeys(vault: KeyVault, retention: number, now = Date.now()): Promise<RotationReport> {
  const ring = (await vault.read<SigningKeyring>(SIGNING_KEY))?.value ?? { keys: [] };
  const report: RotationReport = { promoted: [], staged: [], retired: [], removed: [] };
  const keys: StoredKey[] = [];
  for (const key of ring.keys) {
    if (key.status === 'retired' && key.retiredAt !== undefined && key.retiredAt + retention * 1000 <= now) {
      report.removed.push(key.kid);
      continue;
    }
    keys.push(key);
  }
  for (const alg of SIGNING_ALGS) {
    const staged = keys.find((k) => k.alg === alg && k.status === 'staged');
    const current = keys.filter((k) => k.alg === alg && k.status === 'current');
    if (staged) {
      for (const old of current) {
        old.status = 'retired';
        old.retiredAt = now;
        report.retired.push(old.kid);
      }
      staged.status = 'current';
      report.promoted.push(staged.kid);
    } else if (current.length === 0) {
      const key = await generateSigningKey(alg, 'current');
      keys.push(key);
      report.promoted.push(key.kid);
    }
    const next = await generateSigningKey(alg, 'staged');
    keys.push(next);
    report.staged.push(next.kid);
  }
  await vault.write(SIGNING_KEY, { keys });
  return report;
}

export async function listSigningKeys(vault: KeyVault): Promise<Omit<StoredKey, 'jwk'>[]> {
  const ring = (await vault.read<SigningKeyring>(SIGNING_KEY))?.value ?? { keys: [] };
  // Never the private parts.
  return ring.keys.map(({ jwk: _jwk, ...meta }) => meta);
}

export async function loadCookieKeys(vault: KeyVault | undefined, configured: string[] | undefined): Promise<{ keys: string[]; source: string; generated: boolean; migrated: boolean }> {
  if (configured) return { keys: configured, source: 'COOKIE_KEYS', generated: false, migrated: false };
  const keys = needVault(vault);
  const source = `store (${keys.store.description})`;
  const existing = await keys.readSealing<CookieKeyring>(COOKIE_KEY);
  if (existing?.value.keys.length) return { keys: existing.value.keys.map((k) => k.value), source, generated: false, migrated: existing.migrated };
  const fresh: CookieKeyring = { keys: [{ value: randomBytes(32).toString('base64url'), created: Date.now() }] };
  const created = await keys.writeIfAbsent(COOKIE_KEY, fresh);
  const ring = created ? fresh : ((await keys.read<CookieKeyring>(COOKIE_KEY))?.value ?? fresh);
  return { keys: ring.keys.map((k) => k.value), source, generated: created, migrated: false };
}

/** The new key signs cookies from the next start; older ones keep verifying existing cookies. */
export async function rotateCookieKeys(vault: KeyVault): Promise<number> {
  const ring = (await vault.read<CookieKeyring>(COOKIE_KEY))?.value ?? { keys: [] };
  const keys = [{ value: randomBytes(32).toString('base64url'), created: Date.now() }, ...ring.keys].slice(0, COOKIE_KEYS_KEPT);
  await vault.write(COOKIE_KEY, { keys });
  return keys.length;
}
