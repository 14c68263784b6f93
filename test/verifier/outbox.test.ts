// The webhook outbox: a status and the webhook that announces it are saved in one atomic write, so
// a verifier that dies right after that write still has its webhook delivered, by the next
// instance, once, with the event_id fixed before the crash. The "process" here is a verifier on a
// store that stops working the instant after the write (every later call of that instance fails,
// as a killed process makes none); a second verifier on the same real store takes over.
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/didit/index.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store, Write } from '../../src/store/index.ts';
import { K } from '../../src/verifier/keys.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { tempDir } from '../helpers/env.ts';
import { WEBHOOK_SECRET, api, openPage, startReceiver, startTestVerifier, testRedisStore, waitFor } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 1 });
afterAll(() => face.close());

/** A store whose user dies right after the first writeAll that `fatal` picks: that write happens, nothing after it. */
function mortal(store: Store, fatal: (writes: Write[]) => boolean): { store: Store; died: () => boolean } {
  let dead = false;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'rateLimiter') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        if (dead) throw new Error('this instance is dead');
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (prop === 'writeAll' && fatal(args[0] as Write[])) {
          dead = true;
          throw new Error('killed right after the write');
        }
        return result;
      };
    },
  });
  return { store: proxy, died: () => dead };
}

const opens: [string, () => Promise<{ store: Store; close: () => Promise<void> }>][] = [
  ['redis', async () => {
    const store = await testRedisStore('outbox');
    return { store, close: () => store.close() };
  }],
  ['sqlite', async () => {
    const dir = tempDir('outbox');
    const store = new SqliteStore(dir.dir);
    return { store, close: async () => { await store.close(); dir.remove(); } };
  }],
];

describe.each(opens)('webhook outbox (%s)', (_name, open) => {
  it('a verifier killed right after saving a status still gets its webhook delivered, once, with the same event_id', async () => {
    const receiver = await startReceiver();
    const { store, close } = await open();
    const env = { VERIFIER_WEBHOOK_URL: receiver.url };
    const doomed = mortal(store, (writes) => writes.some((w) => 'set' in w && w.set.includes(':webhook:')));
    const first = await startTestVerifier({ face, store: doomed.store, env });
    let second: Awaited<ReturnType<typeof startTestVerifier>> | undefined;
    try {
      const { body: s } = await api(first, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'outbox-user' });
      expect(s.session_id).toBeTruthy();
      // Opening the page moves the session to In Progress: the status and its webhook are written, then the instance dies.
      expect((await openPage(s.url)).status).toBeGreaterThanOrEqual(500);
      expect(doomed.died()).toBe(true);
      await first.stop();
      expect(receiver.deliveries).toHaveLength(0);

      // What the dead instance left: the new status, and beside it the webhook job with its event_id.
      expect((await store.get<{ status: string }>(K.session(s.session_id)))?.status).toBe('In Progress');
      const webhookJobs = (await store.indexMembers(K.sessionJobs(s.session_id))).filter((id) => id.includes(':webhook:'));
      expect(webhookJobs).toHaveLength(1);
      const eventId = webhookJobs[0]!.split(':webhook:')[1];

      // Another instance on the same store delivers it.
      second = await startTestVerifier({ face, store, env });
      const delivered = await waitFor('the webhook from before the crash', () => receiver.deliveries.find((d) => d.answered === 200));
      const result = verifyWebhook(delivered.body, delivered.headers, WEBHOOK_SECRET);
      if (!result.ok) throw new Error(result.reason);
      expect(result.payload).toMatchObject({ session_id: s.session_id, status: 'In Progress', event_id: eventId });
      // Once: the job is done and gone.
      await waitFor('job removed', async () => (await store.get(K.job(webhookJobs[0]!))) === undefined);
      expect(receiver.deliveries.filter((d) => d.body.includes(s.session_id))).toHaveLength(1);
    } finally {
      await second?.stop();
      await receiver.close();
      await close();
    }
  });

  it('a verifier killed before the write leaves the old status and announces nothing; its queue entry is dropped', async () => {
    const receiver = await startReceiver();
    const { store, close } = await open();
    const env = { VERIFIER_WEBHOOK_URL: receiver.url, VERIFIER_QUEUE_CLAIM_TIMEOUT: '1s' };
    // Dies at the write itself (nothing written): the bucket entry JobQueue.prepare made is all that is left.
    let dead = false;
    const proxy = new Proxy(store, {
      get(target, prop, receiver_) {
        const value = Reflect.get(target, prop, receiver_);
        if (typeof value !== 'function') return value;
        if (prop === 'rateLimiter') return value.bind(target);
        return async (...args: unknown[]) => {
          if (dead || (prop === 'writeAll' && (args[0] as Write[]).some((w) => 'set' in w && w.set.includes(':webhook:')))) {
            dead = true;
            throw new Error('killed before the write');
          }
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
    const first = await startTestVerifier({ face, store: proxy, env });
    let second: Awaited<ReturnType<typeof startTestVerifier>> | undefined;
    try {
      const { body: s } = await api(first, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'outbox-user-2' });
      const buckets = [0, 1].map((i) => K.jobBucket(Math.floor(Date.now() / 60_000) + i));
      expect((await openPage(s.url)).status).toBeGreaterThanOrEqual(500);
      await first.stop();
      expect((await store.get<{ status: string }>(K.session(s.session_id)))?.status).toBe('Not Started');
      const orphan = async () => {
        for (const bucket of buckets) if ((await store.indexMembers(bucket)).some((m) => m.includes(`{${s.session_id}}:webhook:`))) return true;
        return false;
      };
      expect(await orphan()).toBe(true);
      second = await startTestVerifier({ face, store, env });
      await waitFor('orphan entry dropped after the claim timeout', async () => !(await orphan()), 8000);
      expect(receiver.deliveries).toHaveLength(0);
    } finally {
      await second?.stop();
      await receiver.close();
      await close();
    }
  });
});
