// A login decided but not yet handed to oidc-provider: while the passkey offer is on screen (after
// a face sign-in), or between a passkey-only assertion and its finish. Kept per interaction, taken
// once (of concurrent finishes exactly one wins). Also the passkey proof of an mfa sign-in,
// waiting for its selfie.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Store } from '../../store/index.ts';
import type { PasskeyProof } from '../passkeys/passkeys.ts';
import { noteSignin } from './history.ts';

/** ts: when the user authenticated (the approved selfie or the passkey), not when the offer was answered. */
export type HeldLogin = { accountId: string; amr: string[]; acr: string; ts?: number } | { error: 'unmet' };

const heldKey = (uid: string) => `signin:held-login:${uid}`;
const proofKey = (uid: string) => `signin:passkey-proof:${uid}`;

export async function holdLogin(store: Store, uid: string, login: HeldLogin, ttl: number): Promise<void> {
  await store.set(heldKey(uid), login, { ttl });
}

export async function heldLogin(store: Store, uid: string): Promise<{ accountId: string } | undefined> {
  const held = await store.get<HeldLogin>(heldKey(uid));
  return held && 'accountId' in held ? held : undefined;
}

/** Hands the held login to oidc-provider (its 303); false when there is none. */
export async function finishHeldLogin(ctx: Context, provider: Provider, store: Store, uid: string): Promise<boolean> {
  const held = await store.take<HeldLogin>(heldKey(uid));
  if (!held) return false;
  ctx.respond = false;
  const result =
    'error' in held
      ? { error: 'unmet_authentication_requirements', error_description: 'None of the requested authentication contexts can be met for this sign-in.' }
      : { login: { accountId: held.accountId, amr: held.amr, acr: held.acr, remember: true, ts: held.ts ?? Math.floor(Date.now() / 1000) } };
  if (!('error' in held)) await noteSignin(ctx, held);
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  return true;
}

export async function rememberPasskeyProof(store: Store, uid: string, proof: PasskeyProof, ttl: number): Promise<void> {
  await store.set(proofKey(uid), proof, { ttl });
}

export async function passkeyProof(store: Store, uid: string): Promise<PasskeyProof | undefined> {
  return store.get<PasskeyProof>(proofKey(uid));
}
