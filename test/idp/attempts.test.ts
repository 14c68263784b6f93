// Sign-in attempts on the real Redis: one verification session serves one sign-in, a verdict is
// used once, and erasing an account leaves no key of its sign-ins behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Attempts } from '../../src/idp/signin/attempts.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/env.ts';

const prefix = uniquePrefix('attempts');
let store: RedisStore;
let redis: Redis;
let attempts: Attempts;

beforeAll(async () => {
  store = await RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: prefix });
  redis = new Redis(TEST_REDIS_URL);
  attempts = new Attempts(store);
});
afterAll(async () => {
  await store.close();
  redis.disconnect();
});

const keys = async () => (await redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length));

describe('attempts', () => {
  it('a session is claimed by the first sign-in, for good; the owner may claim it again', async () => {
    expect(await attempts.claim('s-1', 'uid-victim', 'acct-1', 60)).toBe(true);
    expect(await attempts.claim('s-1', 'uid-attacker', 'acct-1', 60)).toBe(false);
    expect(await attempts.claim('s-1', 'uid-victim', 'acct-1', 60)).toBe(true);
    // Concurrent claims by many sign-ins: exactly one wins.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempts.claim('s-race', `uid-${i}`, 'acct-1', 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('a verdict is marked used once, whatever the concurrency', async () => {
    await attempts.claim('s-used', 'uid-u', 'acct-2', 60);
    await attempts.begin({ sessionId: 's-used', uid: 'uid-u', accountId: 'acct-2', purpose: 'login' }, 60);
    const results = await Promise.all(Array.from({ length: 10 }, () => attempts.markUsed('s-used', 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await attempts.get('s-used'))?.used).toBe(true);
  });

  it('a selfie not approved counts once against the sign-in, however often it is learnt', async () => {
    for (const [sid, status] of [['r-1', 'In Review'], ['r-2', 'Declined']] as const) {
      await attempts.claim(sid, 'uid-r', 'acct-r', 60);
      await attempts.begin({ sessionId: sid, uid: 'uid-r', accountId: 'acct-r', purpose: 'login' }, 60);
      await attempts.recordStatus(sid, status, 'webhook', 100);
      await attempts.recordStatus(sid, status, 'decision', 101);
      await attempts.countDecline({ sessionId: sid, uid: 'uid-r', accountId: 'acct-r', purpose: 'login' }, 60);
    }
    // An operator's later decision about the reviewed one changes nothing to the count.
    await attempts.recordStatus('r-1', 'Declined', 'webhook', 200);
    expect(await attempts.failures('uid-r')).toBe(2);
  });

  it('erasing an account removes every key of its sign-ins', async () => {
    for (const [sid, uid] of [['e-1', 'uid-e1'], ['e-2', 'uid-e2']] as const) {
      expect(await attempts.claim(sid, uid, 'acct-erase', 60)).toBe(true);
      await attempts.begin({ sessionId: sid, uid, accountId: 'acct-erase', purpose: 'login' }, 60);
      await attempts.countDecline({ sessionId: `decl-${sid}`, uid, accountId: 'acct-erase', purpose: 'login' }, 60);
    }
    await attempts.markUsed('e-1', 60);
    const mentions = async () => (await keys()).filter((k) => /acct-erase|e-1|e-2|uid-e1|uid-e2/.test(k) && !k.includes("decline-counted:decl-"));
    expect((await mentions()).length).toBeGreaterThan(5);
    expect(await attempts.forgetAccount('acct-erase')).toBe(2);
    expect(await mentions()).toEqual([]);
    // Other accounts' sign-ins are untouched.
    expect(await attempts.get('s-used')).toBeDefined();
  });
});
