// Passkeys (WebAuthn credentials) per account, with @simplewebauthn/server: registration after a
// successful face sign-in, assertion before the selfie of an mfa sign-in (or alone, for clients
// that allow it). docs/signin.md, "Passkeys".
//
// Store keys: `passkey:<credential id>` (the credential: public key, counter, owner), the index
// `passkeys-of:<account>`, single-use challenges `passkey:challenge:<kind>:<uid>` (5 minutes).
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Store } from '../../store/index.ts';
import { HttpError } from '../../http/body.ts';
import type { Account } from '../accounts.ts';

import { AuditLog, auditSubject } from '../audit.ts';
export type Passkey = {
  id: string;
  accountId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  /** singleDevice: bound to one authenticator (hwk); multiDevice: a synced passkey (swk). */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  aaguid: string;
  /** The selfie_device cookie of the browser it was registered in. */
  deviceId: string | null;
  createdAt: number;
  lastUsedAt: number | null;
};

/** What a verified assertion proves, for the acr and amr (acr.ts). */
export type PasskeyProof = { accountId: string; credentialId: string; hardware: boolean; userVerified: boolean };

const passkeyKey = (id: string) => `passkey:${id}`;
const ofKey = (accountId: string) => `passkeys-of:${accountId}`;
const challengeKey = (kind: 'register' | 'auth', uid: string) => `passkey:challenge:${kind}:${uid}`;
const CHALLENGE_TTL = 300;
export const MAX_PASSKEYS_PER_ACCOUNT = 20;

/** RFC 8176: hwk for a key bound to its authenticator; swk for a synced (backup-eligible) passkey. */
export const isHardwareBound = (p: Pick<Passkey, 'deviceType'>) => p.deviceType === 'singleDevice';

export class Passkeys {
  readonly #store: Store;
  readonly rpID: string;
  readonly origin: string;
  readonly rpName: string;

  constructor(store: Store, issuer: string, rpName = 'Selfie IdP') {
    this.#store = store;
    const url = new URL(issuer);
    this.rpID = url.hostname;
    this.origin = url.origin;
    this.rpName = rpName;
  }

  async list(accountId: string): Promise<Passkey[]> {
    const ids = await this.#store.indexMembers(ofKey(accountId));
    const all = await Promise.all(ids.map((id) => this.#store.get<Passkey>(passkeyKey(id))));
    return all.filter((p): p is Passkey => p !== undefined && p.accountId === accountId).sort((a, b) => a.createdAt - b.createdAt);
  }

  async has(accountId: string): Promise<boolean> {
    return (await this.list(accountId)).length > 0;
  }

  /** actor: who removed it, for the audit log (`user`, `cli`, an operator's subject). */
  async remove(accountId: string, credentialId: string, actor = 'user'): Promise<boolean> {
    const existing = await this.#store.get<Passkey>(passkeyKey(credentialId));
    if (!existing || existing.accountId !== accountId) return false;
    await this.#store.delete(passkeyKey(credentialId));
    await this.#store.indexRemove(ofKey(accountId), credentialId);
    await new AuditLog(this.#store).append('account.passkey_removed', { actor, subject: auditSubject(accountId), details: {} });
    return true;
  }

  async forgetAccount(accountId: string): Promise<number> {
    const ids = await this.#store.indexMembers(ofKey(accountId));
    await this.#store.delete(...ids.map(passkeyKey), ofKey(accountId));
    return ids.length;
  }

  async registrationOptions(account: Account, uid: string) {
    const existing = await this.list(account.id);
    if (existing.length >= MAX_PASSKEYS_PER_ACCOUNT) throw new HttpError(409, `An account can have at most ${MAX_PASSKEYS_PER_ACCOUNT} passkeys. Remove one on your account page first.`);
    const options = await generateRegistrationOptions({
      rpName: this.rpName,
      rpID: this.rpID,
      userName: account.email,
      userDisplayName: account.name,
      userID: new TextEncoder().encode(account.id),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports })),
      // Discoverable, so that a sign-in can start without typing the email.
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await this.#store.set(challengeKey('register', uid), { challenge: options.challenge, accountId: account.id }, { ttl: CHALLENGE_TTL });
    return options;
  }

  async register(accountId: string, uid: string, response: RegistrationResponseJSON, deviceId: string | null): Promise<Passkey> {
    const pending = await this.#store.take<{ challenge: string; accountId: string }>(challengeKey('register', uid));
    if (!pending || pending.accountId !== accountId) throw new HttpError(400, 'This passkey registration has expired. Try again.');
    let result;
    try {
      result = await verifyRegistrationResponse({ response, expectedChallenge: pending.challenge, expectedOrigin: this.origin, expectedRPID: this.rpID, requireUserVerification: false });
    } catch (err) {
      throw new HttpError(400, `The passkey could not be registered: ${(err as Error).message}`);
    }
    if (!result.verified) throw new HttpError(400, 'The passkey could not be registered.');
    const info = result.registrationInfo;
    const passkey: Passkey = {
      id: info.credential.id,
      accountId,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
      deviceId,
      createdAt: Date.now(),
      lastUsedAt: null,
    };
    // A credential id names one credential for good: never re-pointed to another account.
    if (!(await this.#store.setIfAbsent(passkeyKey(passkey.id), passkey))) throw new HttpError(409, 'This passkey is already registered.');
    await this.#store.indexAdd(ofKey(accountId), passkey.id);
    await new AuditLog(this.#store).append('account.passkey_added', { actor: 'user', subject: auditSubject(accountId), details: { kind: passkey.deviceType === 'singleDevice' ? 'device' : 'synced' } });
    return passkey;
  }

  /** Options for an assertion: the account's credentials when it is known, else discoverable (any). */
  async authenticationOptions(uid: string, accountId: string | undefined) {
    const allow = accountId ? (await this.list(accountId)).map((p) => ({ id: p.id, transports: p.transports })) : undefined;
    const options = await generateAuthenticationOptions({ rpID: this.rpID, userVerification: 'preferred', ...(allow ? { allowCredentials: allow } : {}) });
    await this.#store.set(challengeKey('auth', uid), { challenge: options.challenge, accountId: accountId ?? null }, { ttl: CHALLENGE_TTL });
    return options;
  }

  /**
   * Verifies an assertion against the challenge issued to this sign-in. When the sign-in named an
   * account (login_hint or the email field), the passkey must be one of that account's.
   */
  async authenticate(uid: string, response: AuthenticationResponseJSON): Promise<PasskeyProof> {
    const pending = await this.#store.take<{ challenge: string; accountId: string | null }>(challengeKey('auth', uid));
    if (!pending) throw new HttpError(400, 'This passkey request has expired. Try again.');
    const passkey = typeof response?.id === 'string' ? await this.#store.get<Passkey>(passkeyKey(response.id)) : undefined;
    if (!passkey) throw new HttpError(403, 'This passkey is not registered here.');
    if (pending.accountId !== null && passkey.accountId !== pending.accountId) throw new HttpError(403, 'This passkey cannot be used for this account.');
    let result;
    try {
      result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        credential: { id: passkey.id, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: passkey.counter, transports: passkey.transports },
        requireUserVerification: false,
      });
    } catch (err) {
      throw new HttpError(403, `The passkey could not be verified: ${(err as Error).message}`);
    }
    if (!result.verified) throw new HttpError(403, 'The passkey could not be verified.');
    await this.#store.patch(passkeyKey(passkey.id), { counter: result.authenticationInfo.newCounter, lastUsedAt: Date.now() });
    return {
      accountId: passkey.accountId,
      credentialId: passkey.id,
      hardware: isHardwareBound({ deviceType: result.authenticationInfo.credentialDeviceType }),
      userVerified: result.authenticationInfo.userVerified,
    };
  }
}

/** For the operator and the account page: no key material. */
export function describePasskey(p: Passkey) {
  return {
    id: p.id,
    created_at: new Date(p.createdAt).toISOString(),
    last_used_at: p.lastUsedAt === null ? null : new Date(p.lastUsedAt).toISOString(),
    kind: isHardwareBound(p) ? 'device-bound' : 'synced',
    transports: p.transports,
    aaguid: p.aaguid,
  };
}
