// Webhooks and lifecycle timers, end to end over HTTP with a real receiver: signatures that
// verify, at-least-once delivery with retries, nothing lost across a restart (Redis and sqlite),
// and the Expired / Abandoned timers with short durations. No images: status changes come from
// opening the page, the timers and update-status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/didit/index.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/index.ts';
import { K } from '../../src/verifier/keys.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { WEBHOOK_SECRET, api, openPage, startReceiver, startTestVerifier, waitFor } from '../helpers/verifier.ts';
import type { Delivery, Receiver, TestVerifier } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 1 });
afterAll(() => face.close());

function payload(d: Delivery) {
  const result = verifyWebhook(d.body, d.headers, WEBHOOK_SECRET);
  if (!result.ok) throw new Error(`webhook did not verify: ${result.reason}`);
  return result.payload;
}

const accepted = (r: Receiver) => r.deliveries.filter((d) => d.answered >= 200 && d.answered < 300);

describe('status webhooks', () => {
  let receiver: Receiver;
  let v: TestVerifier;
  beforeAll(async () => {
    receiver = await startReceiver();
    v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: receiver.url, VERIFIER_CAPTURE_WINDOW: '1s' } });
  });
  afterAll(async () => {
    await v?.stop();
    await receiver?.close();
  });

  it('each status change is signed with all three signatures and verifies with verifyWebhook', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'hook-user', metadata: { purpose: 'signup', name: 'Zoë' } });
    const page = await openPage(s.url);
    expect(page.status).toBe(200);
    const first = await waitFor('In Progress webhook', () => receiver.deliveries.find((d) => payload(d).session_id === s.session_id));
    const p = payload(first);
    expect(p).toMatchObject({ webhook_type: 'status.updated', session_id: s.session_id, status: 'In Progress', workflow_id: 'kyc', vendor_data: 'hook-user', metadata: { purpose: 'signup', name: 'Zoë' }, environment: 'live' });
    expect(p.decision).toBeUndefined();
    expect(p.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers['x-timestamp']).toBe(String(p.timestamp));
    expect(first.headers['x-signature-simple']).toMatch(/^[0-9a-f]{64}$/);
    expect(first.headers['content-type']).toBe('application/json');
    // Non-ASCII is escaped on the wire, so the raw and canonical signatures both hold.
    expect(first.body).toContain('Zo\\u00eb');
    expect(verifyWebhook(first.body, { 'x-signature': String(first.headers['x-signature']) }, WEBHOOK_SECRET).ok).toBe(true);
    expect(verifyWebhook(first.body, first.headers, 'another-secret-entirely').ok).toBe(false);

    // The capture window (1 s) runs out: Abandoned, with a decision.
    const abandoned = await waitFor('Abandoned webhook', () => receiver.deliveries.map(payload).find((x) => x.session_id === s.session_id && x.status === 'Abandoned'));
    expect(abandoned.decision).toMatchObject({ session_id: s.session_id, status: 'Abandoned', liveness_checks: null });
    expect(abandoned.event_id).not.toBe(p.event_id);

    // An enrolment that holds no face cannot be approved (it would enrol nobody): an operator
    // declines it instead: another webhook, with the review in the decision.
    expect((await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'Approved' })).status).toBe(400);
    const upd = await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'Declined', comment: 'checked by hand' });
    expect(upd).toMatchObject({ status: 200, body: { session_id: s.session_id } });
    const reviewed = await waitFor('Declined webhook', () => receiver.deliveries.map(payload).find((x) => x.session_id === s.session_id && x.status === 'Declined'));
    expect(reviewed.decision?.reviews).toEqual([expect.objectContaining({ new_status: 'Declined', comment: 'checked by hand' })]);

    // Resubmitted re-opens the capture: the page takes a capture again.
    await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'Resubmitted' });
    expect((await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body.status).toBe('Resubmitted');
    const reopened = await openPage(s.url);
    expect(reopened.config.state).toBe('capture');
    expect((await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body.status).toBe('In Progress');
  });
});

describe('delivery', () => {
  it('a receiver that fails twice then succeeds gets exactly one accepted delivery per event', async () => {
    const attemptsByEvent = new Map<string, number>();
    const receiver = await startReceiver((d) => {
      const id = JSON.parse(d.body).event_id as string;
      const n = (attemptsByEvent.get(id) ?? 0) + 1;
      attemptsByEvent.set(id, n);
      return n === 1 ? 500 : n === 2 ? 404 : 200;
    });
    const v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: receiver.url } });
    try {
      const sessions = await Promise.all([1, 2, 3].map((i) => api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: `retry-${i}` })));
      await Promise.all(sessions.map((s) => openPage(s.body.url)));
      await waitFor('three accepted deliveries', () => accepted(receiver).length >= 3);
      await new Promise((r) => setTimeout(r, 800)); // any extra delivery would arrive by now
      const ok = accepted(receiver).map(payload);
      expect(ok).toHaveLength(3);
      expect(new Set(ok.map((p) => p.event_id)).size).toBe(3);
      expect(receiver.deliveries).toHaveLength(9);
      for (const [, n] of attemptsByEvent) expect(n).toBe(3);
      // Each attempt is signed afresh and carries the same event_id.
      for (const d of receiver.deliveries) expect(() => payload(d)).not.toThrow();
      expect(v.logs.join('')).toMatch(/will retry/);
    } finally {
      await v.stop();
      await receiver.close();
    }
  });

  it('a receiver that does not answer is retried after the timeout; a 4xx is not retried', async () => {
    let calls = 0;
    const receiver = await startReceiver(() => (++calls === 1 ? 0 : 200));
    const v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: receiver.url, VERIFIER_WEBHOOK_TIMEOUT: '300ms' } });
    try {
      const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc' });
      await openPage(s.url);
      await waitFor('delivery after a timeout', () => accepted(receiver).length === 1);
      expect(receiver.deliveries).toHaveLength(2);
      expect(payload(receiver.deliveries[0]!).event_id).toBe(payload(receiver.deliveries[1]!).event_id);
      expect(v.logs.join('')).toMatch(/timeout after 300 ms/);

      receiver.respond = () => 401;
      const { body: s2 } = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc' });
      await openPage(s2.url);
      await waitFor('dead job', async () => (await v.store.indexMembers(K.deadJobs())).length === 1);
      await new Promise((r) => setTimeout(r, 400));
      expect(receiver.deliveries).toHaveLength(3);
      expect(v.logs.join('')).toMatch(/refused by the receiver/);
    } finally {
      await v.stop();
      await receiver.close();
    }
  });

  const stores: [string, () => { open: () => Promise<Store>; cleanup: () => void }][] = [
    ['redis', () => {
      const prefix = uniquePrefix('verifier-restart');
      return { open: () => RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: prefix }), cleanup: () => {} };
    }],
    ['sqlite', () => {
      const dir = tempDir('verifier-restart');
      return { open: async () => new SqliteStore(dir.dir), cleanup: dir.remove };
    }],
  ];

  it.each(stores)('a restart while a delivery is pending loses nothing (%s)', async (_name, make) => {
    const { open, cleanup } = make();
    let up = false;
    const receiver = await startReceiver(() => (up ? 200 : 503));
    const data = tempDir('verifier-restart-data');
    let store = await open();
    let v = await startTestVerifier({ face, store, dataDir: data.dir, env: { VERIFIER_WEBHOOK_URL: receiver.url, VERIFIER_WEBHOOK_RETRY_DELAYS: '300ms,300ms,300ms,300ms,300ms,300ms' } });
    try {
      const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'restart-user' });
      await openPage(s.url);
      await waitFor('a failed attempt', () => receiver.deliveries.length >= 1);
      await v.stop();
      await store.close();
      const failedBefore = receiver.deliveries.length;
      expect(accepted(receiver)).toHaveLength(0);

      up = true;
      store = await open();
      v = await startTestVerifier({ face, store, dataDir: data.dir, env: { VERIFIER_WEBHOOK_URL: receiver.url } });
      const delivered = await waitFor('delivery after restart', () => accepted(receiver)[0]);
      const p = payload(delivered);
      expect(p).toMatchObject({ session_id: s.session_id, status: 'In Progress' });
      expect(p.event_id).toBe(payload(receiver.deliveries[0]!).event_id);
      expect(receiver.deliveries.length).toBeGreaterThan(failedBefore);
      await new Promise((r) => setTimeout(r, 300));
      expect(accepted(receiver)).toHaveLength(1);
    } finally {
      await v.stop();
      await store.close();
      await receiver.close();
      data.remove();
      cleanup();
    }
  });
});

describe('lifecycle timers', () => {
  let receiver: Receiver;
  let v: TestVerifier;
  beforeAll(async () => {
    receiver = await startReceiver();
    v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: receiver.url, VERIFIER_SESSION_EXPIRY: '1s', VERIFIER_CAPTURE_WINDOW: '1500ms' } });
  });
  afterAll(async () => {
    await v?.stop();
    await receiver?.close();
  });

  const status = async (id: string) => (await api(v, 'GET', `/v3/session/${id}/decision/`)).body.status as string;

  it('Expired when never opened before expires_at; its page then says so', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'never-opened' });
    expect(await status(s.session_id)).toBe('Not Started');
    await waitFor('Expired', async () => (await status(s.session_id)) === 'Expired', 5000);
    const hook = await waitFor('Expired webhook', () => receiver.deliveries.map(payload).find((p) => p.session_id === s.session_id));
    expect(hook.status).toBe('Expired');
    expect(hook.decision).toBeUndefined();
    const page = await openPage(s.url);
    expect(page.status).toBe(410);
    expect(page.config.state).toBe('expired');
    // An expired session is not handed back: a new one is opened.
    expect((await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'never-opened' })).body.session_id).not.toBe(s.session_id);
  });

  it('Abandoned when opened and not finished within the capture window; not Expired once opened', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'kyc', vendor_data: 'opened' });
    await openPage(s.url);
    expect(await status(s.session_id)).toBe('In Progress');
    await new Promise((r) => setTimeout(r, 1100)); // past expires_at (1 s): opened sessions do not expire
    expect(await status(s.session_id)).toBe('In Progress');
    await waitFor('Abandoned', async () => (await status(s.session_id)) === 'Abandoned', 5000);
    const statuses = receiver.deliveries.map(payload).filter((p) => p.session_id === s.session_id).map((p) => p.status);
    await waitFor('both webhooks', () => receiver.deliveries.map(payload).filter((p) => p.session_id === s.session_id).length === 2);
    expect(statuses[0]).toBe('In Progress');
    expect((await openPage(s.url)).config.state).toBe('expired');
  });
});
