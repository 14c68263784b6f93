// oidc-provider's storage adapter over our Store.
//
// Keys: `oidc:<Model>:<id>`. A grant's own record and its token index share the hash tag
// `{grantId}` (`oidc:Grant:{id}`, `oidc:grant-tokens:{id}`), so they sit in one Redis Cluster slot;
// tokens are looked up by their own id alone and so cannot share it — revocation deletes them one
// key at a time, which Cluster allows.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Json, Store } from '../store/index.ts';

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
const userCodeKey = (code: string) => `oidc:DeviceCode-userCode:${code}`;

export type AdapterOptions = {
  store: Store;
  /** Used only if oidc-provider ever upserts without an expiry: no key may live forever. */
  fallbackTtl: number;
};

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
