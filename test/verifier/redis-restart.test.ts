// Redis with append-only persistence (fsync always) killed and started again while the verifier
// is under load: every status change the verifier acknowledged is still there afterwards, and its
// webhook arrives, at least once, every copy with the same event_id (at-least-once, never two
// different events for one change). The load is sessions created and opened (Not Started → In
// Progress, a status change with a webhook) by four clients at once.
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/didit/index.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { startPersistentRedis } from '../helpers/redis-topology.ts';
import { WEBHOOK_SECRET, api, openPage, startReceiver, startTestVerifier, waitFor } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 1 });
afterAll(() => face.close());

describe('verifier through a Redis restart', () => {
  it('no acknowledged status change or webhook is lost; redeliveries keep their event_id', async () => {
    const redis = await startPersistentRedis('verifier-restart');
    const receiver = await startReceiver();
    const store = await RedisStore.connect({ url: redis.url, keyPrefix: 'restart:' });
    const v = await startTestVerifier({ face, store, env: { VERIFIER_WEBHOOK_URL: receiver.url } });
    const acknowledged: string[] = [];
    let failed = 0;
    let stop = false;
    let n = 0;
    const client = async () => {
      while (!stop) {
        try {
          // A user each, as in real traffic (one user's creations are serialised by a lock).
          const created = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: `restart-user-${n++}` });
          if (created.status !== 201) {
            expect(created.status).toBe(503);
            failed++;
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          const page = await openPage(created.body.url);
          if (page.status === 200) acknowledged.push(created.body.session_id);
          else {
            expect(page.status).toBe(503);
            failed++;
          }
        } catch (err) {
          if (stop) return;
          throw err;
        }
      }
    };
    try {
      const clients = [0, 1, 2, 3].map(client);
      await waitFor('load before the restart', () => acknowledged.length >= 20, 20_000);
      await redis.kill();
      await waitFor('requests refused while Redis is down', () => failed >= 4, 10_000);
      await redis.start();
      const atRestart = acknowledged.length;
      await waitFor('load after the restart', () => acknowledged.length >= atRestart + 20, 20_000);
      stop = true;
      await Promise.all(clients);

      // Every acknowledged change is stored...
      for (const id of acknowledged) expect((await api(v, 'GET', `/v3/session/${id}/decision/`)).body.status).toBe('In Progress');
      // ...and announced: at least one delivery each, and one event_id per change however many copies.
      const eventsFor = () => {
        const bySession = new Map<string, Set<string>>();
        for (const d of receiver.deliveries) {
          const r = verifyWebhook(d.body, d.headers, WEBHOOK_SECRET);
          if (!r.ok) throw new Error(r.reason);
          if (r.payload.status !== 'In Progress') continue;
          const set = bySession.get(r.payload.session_id) ?? new Set<string>();
          set.add(r.payload.event_id);
          bySession.set(r.payload.session_id, set);
        }
        return bySession;
      };
      await waitFor('every acknowledged change announced', () => acknowledged.every((id) => eventsFor().has(id)), 20_000);
      for (const [, events] of eventsFor()) expect(events.size).toBe(1);
    } finally {
      stop = true;
      await v.stop();
      await store.close();
      await receiver.close();
      await redis.stop();
    }
  }, 60_000);
});
