// oidc-provider's adapter contract on both stores, and the "no key lives forever" rule checked
// on the real Redis server key by key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createAdapterFactory, forgetAccountRecords, grantIndexKey, modelKey } from '../../src/idp/adapter.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { TEST_REDIS_URL, sleep, tempDir, uniquePrefix } from '../helpers/env.ts';

const MODELS = [
  'Session', 'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'ClientCredentials', 'Client',
  'InitialAccessToken', 'RegistrationAccessToken', 'Interaction', 'ReplayDetection', 'PushedAuthorizationRequest',
  'Grant', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
];
const GRANTABLE = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode'];

const tmp = tempDir('adapter');
const redisPrefix = uniquePrefix('adapter');
const stores: [string, () => Promise<Store>][] = [
  ['sqlite', async () => new SqliteStore(tmp.dir)],
  ['redis', async () => RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: redisPrefix })],
];
afterAll(() => tmp.remove());

describe.each(stores)('oidc adapter on %s', (name, open) => {
  let store: Store;
  let adapter: ReturnType<typeof createAdapterFactory>;
  beforeAll(async () => {
    store = await open();
    adapter = createAdapterFactory({ store, fallbackTtl: 120 });
  });
  afterAll(async () => store.close());

  it.each(MODELS)('%s: upsert, find, consume, destroy', async (model) => {
    const a = adapter(model);
    const id = `${model}-1`;
    const payload = { jti: id, kind: model, exp: Math.floor(Date.now() / 1000) + 60, scope: 'openid', rar: [] as unknown[] };
    await a.upsert(id, payload as never, 60);
    expect(await a.find(id)).toEqual(payload);
    const ttl = await store.ttl(modelKey(model, id));
    expect(ttl).toBeGreaterThan(50);
    await a.consume(id);
    const consumed = (await a.find(id)) as { consumed?: number };
    expect(typeof consumed.consumed).toBe('number');
    expect(await store.ttl(modelKey(model, id))).toBeGreaterThan(50);
    await a.destroy(id);
    expect(await a.find(id)).toBeUndefined();
  });

  it('erasure finds every record naming the account or its email, whatever field names it', async () => {
    const ttl = 60;
    await adapter('Session').upsert('es-1', { uid: 'es-uid', accountId: 'acct-x' } as never, ttl);
    await adapter('Grant').upsert('eg-1', { accountId: 'acct-x', clientId: 'c' } as never, ttl);
    await adapter('AccessToken').upsert('eat-1', { accountId: 'acct-x', grantId: 'eg-1' } as never, ttl);
    await adapter('Interaction').upsert('ei-login', { params: { login_hint: 'X@Example.com' } } as never, ttl);
    await adapter('Interaction').upsert('ei-result', { result: { login: { accountId: 'acct-x' } } } as never, ttl);
    await adapter('Interaction').upsert('ei-consent', { session: { accountId: 'acct-x', uid: 'u' }, lastSubmission: { login: { accountId: 'acct-x' } } } as never, ttl);
    await adapter('Session').upsert('other', { uid: 'other-uid', accountId: 'acct-y' } as never, ttl);
    expect(await forgetAccountRecords(store, 'acct-x', 'x@example.com')).toBeGreaterThanOrEqual(6);
    for (const [model, id] of [['Session', 'es-1'], ['Grant', 'eg-1'], ['AccessToken', 'eat-1'], ['Interaction', 'ei-login'], ['Interaction', 'ei-result'], ['Interaction', 'ei-consent']] as const) {
      expect(await adapter(model).find(id)).toBeUndefined();
    }
    expect(await adapter('Session').findByUid('es-uid')).toBeUndefined();
    expect(await store.indexMembers(grantIndexKey('eg-1'))).toEqual([]);
    expect(await adapter('Session').find('other')).toMatchObject({ accountId: 'acct-y' });
  });

  it('finds a session by uid and a device code by user code', async () => {
    await adapter('Session').upsert('sess-1', { uid: 'uid-1', accountId: 'acc' } as never, 60);
    expect(await adapter('Session').findByUid('uid-1')).toMatchObject({ accountId: 'acc' });
    expect(await adapter('Session').findByUid('nope')).toBeUndefined();
    await adapter('DeviceCode').upsert('dc-1', { userCode: 'ABCD-EFGH', grantId: 'g0' } as never, 60);
    expect(await adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toMatchObject({ userCode: 'ABCD-EFGH' });
  });

  it('revokeByGrantId removes every token of the grant and nothing else', async () => {
    for (const model of GRANTABLE) {
      await adapter(model).upsert(`${model}-g1`, { grantId: 'g1' } as never, 60);
      await adapter(model).upsert(`${model}-g2`, { grantId: 'g2' } as never, 60);
    }
    await adapter('AccessToken').upsert('at-g1-b', { grantId: 'g1' } as never, 600);
    await adapter('Grant').revokeByGrantId('g1');
    for (const model of GRANTABLE) {
      expect(await adapter(model).find(`${model}-g1`)).toBeUndefined();
      expect(await adapter(model).find(`${model}-g2`)).toBeDefined();
    }
    expect(await adapter('AccessToken').find('at-g1-b')).toBeUndefined();
    expect(await store.indexMembers(grantIndexKey('g1'))).toEqual([]);
  });

  it('consume on an expired record leaves nothing behind', async () => {
    await adapter('AuthorizationCode').upsert('short-code', { grantId: 'g3' } as never, 1);
    await sleep(1200);
    await adapter('AuthorizationCode').consume('short-code');
    expect(await adapter('AuthorizationCode').find('short-code')).toBeUndefined();
    expect(await store.ttl(modelKey('AuthorizationCode', 'short-code'))).toBeUndefined();
  });

  it('an upsert without expiry still gets a TTL', async () => {
    await adapter('Client').upsert('no-exp', { client_id: 'no-exp' } as never);
    const ttl = await store.ttl(modelKey('Client', 'no-exp'));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  if (name === 'redis') {
    it('every key the adapter wrote has a TTL, and a grant and its index share a cluster slot', async () => {
      const raw = new Redis(TEST_REDIS_URL);
      try {
        const keys = await raw.keys(`${redisPrefix}*`);
        expect(keys.length).toBeGreaterThan(5);
        for (const key of keys) expect([key, await raw.ttl(key)]).toEqual([key, expect.any(Number)]);
        const ttls = await Promise.all(keys.map((k) => raw.ttl(k)));
        expect(ttls.filter((t) => t < 0)).toEqual([]);
        const tag = (k: string) => /\{([^}]+)\}/.exec(k)?.[1];
        expect(tag(redisPrefix + modelKey('Grant', 'g9'))).toBe('g9');
        expect(tag(redisPrefix + grantIndexKey('g9'))).toBe('g9');
      } finally {
        raw.disconnect();
      }
    });
  }
});
