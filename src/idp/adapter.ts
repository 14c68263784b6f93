// oidc-provider's storage adapter over our Store.
//
// Keys: `oidc:<Model>:<id>`. A grant's own record and its token index share the hash tag
// `{grantId}` (`oidc:Grant:{id}`, `oidc:grant-tokens:{id}`), so they sit in one Redis Cluster slot;
// tokens are looked up by their own id alone and so cannot share it — revocation deletes them one
// key at a time, which Cluster allows.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Json, Store } from '../store/index.ts';
import { normaliseEmail } from './accounts.ts';

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

export function modelKey(model: string, id: string): string {
  return model === 'Grant' ? `oidc:Grant:{${id}}` : `oidc:${model}:${id}`;
}
export const grantIndexKey = (grantId: string) => `oidc:grant-tokens:{${grantId}}`;
const uidKey = (uid: string) => `oidc:Session-uid:${uid}`;
/** Every record about an account (sessions, grants, tokens, codes, finished interactions), for erasure. */
const accountRecordsKey = (accountId: string) => `oidc:by-account:${accountId}`;
/** Interactions whose login_hint named an email, for erasure (they may predate any account). */
const hintRecordsKey = (email: string) => `oidc:by-login-hint:${normaliseEmail(email)}`;
const userCodeKey = (code: string) => `oidc:DeviceCode-userCode:${code}`;

export type AdapterOptions = {
  store: Store;
  /** Used only if oidc-provider ever upserts without an expiry: no key may live forever. */
  fallbackTtl: number;
};

async function indexForErasure(store: Store, model: string, id: string, payload: AdapterPayload, ttl: number): Promise<void> {
  const p = payload as {
    accountId?: unknown;
    uid?: unknown;
    result?: { login?: { accountId?: unknown } };
    lastSubmission?: { login?: { accountId?: unknown } };
    session?: { accountId?: unknown };
    params?: { login_hint?: unknown };
  };
  // An interaction names its account in several places (a consent prompt after a login: session,
  // lastSubmission); any of them makes it a record about that account.
  const accountId = [p.accountId, p.result?.login?.accountId, p.lastSubmission?.login?.accountId, p.session?.accountId].find((v): v is string => typeof v === 'string');
  if (accountId) {
    const keys = [modelKey(model, id)];
    if (model === 'Session' && typeof p.uid === 'string') keys.push(uidKey(p.uid));
    if (model === 'Grant') keys.push(grantIndexKey(id));
    for (const k of keys) await store.indexAdd(accountRecordsKey(accountId), k, { ttl });
  }
  if (model === 'Interaction' && typeof p.params?.login_hint === 'string') await store.indexAdd(hintRecordsKey(p.params.login_hint), modelKey(model, id), { ttl });
}

/**
 * Erasure (`users delete`): every oidc-provider record about the account: its sessions (so a
 * browser signed in as it is signed out), grants and their token indexes, tokens, codes, and the
 * interactions that named its email as login_hint.
 */
export async function forgetAccountRecords(store: Store, accountId: string, email: string): Promise<number> {
  const [byAccount, byHint] = await Promise.all([store.indexMembers(accountRecordsKey(accountId)), store.indexMembers(hintRecordsKey(email))]);
  const keys = [...new Set([...byAccount, ...byHint])];
  await store.delete(...keys, accountRecordsKey(accountId), hintRecordsKey(email));
  return keys.length;
}

export function createAdapterFactory({ store, fallbackTtl }: AdapterOptions) {
  return (model: string): Adapter => {
    const key = (id: string) => modelKey(model, id);

    return {
      async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
        const ttl = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : fallbackTtl;
        await store.set(key(id), payload as Json, { ttl });
        if (GRANTABLE.has(model) && payload.grantId) {
          await store.indexAdd(grantIndexKey(payload.grantId), key(id), { ttl });
        }
        if (model === 'Session' && payload.uid) await store.set(uidKey(payload.uid), id, { ttl });
        if (payload.userCode) await store.set(userCodeKey(payload.userCode), id, { ttl });
        await indexForErasure(store, model, id, payload, ttl);
      },

      async find(id: string) {
        return store.get<AdapterPayload>(key(id));
      },

      async findByUid(uid: string) {
        const id = await store.get<string>(uidKey(uid));
        return id ? store.get<AdapterPayload>(key(id)) : undefined;
      },

      async findByUserCode(userCode: string) {
        const id = await store.get<string>(userCodeKey(userCode));
        return id ? store.get<AdapterPayload>(key(id)) : undefined;
      },

      async consume(id: string) {
        // patch() writes nothing when the record has expired, so no TTL-less husk is left behind.
        await store.patch(key(id), { consumed: Math.floor(Date.now() / 1000) });
      },

      async destroy(id: string) {
        await store.delete(key(id));
      },

      async revokeByGrantId(grantId: string) {
        const index = grantIndexKey(grantId);
        const tokens = await store.indexMembers(index);
        await store.delete(...tokens, index);
      },
    };
  };
}
