// Graceful shutdown, part by part (the whole of it, in real processes behind haproxy, is in
// test/cluster/scale-out.test.ts): its settings, the drain (/readyz 503 while requests are still
// served), a request in flight finishing after the listener closed, the grace period's end, and
// the job queue releasing what it cannot finish in time.
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { shutdown } from '../../src/shutdown.ts';
import { JobQueue } from '../../src/verifier/queue/jobs.ts';
import type { Job } from '../../src/verifier/queue/jobs.ts';
import { K } from '../../src/verifier/keys.ts';
import { configError, sleep } from '../helpers/env.ts';
import { startTestServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { testRedisStore, waitFor } from '../helpers/verifier.ts';

const logs: string[] = [];
const log = createLogger('info', new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }));

describe('shutdown settings (SHUTDOWN_GRACE_SECONDS, SHUTDOWN_DRAIN_SECONDS)', () => {
  it('default to 25 s of grace and no drain delay; are read in seconds', () => {
    expect(loadConfig({}).shutdown).toEqual({ graceMs: 25_000, drainMs: 0 });
    expect(loadConfig({ SHUTDOWN_GRACE_SECONDS: '40', SHUTDOWN_DRAIN_SECONDS: '2.5' }).shutdown).toEqual({ graceMs: 40_000, drainMs: 2500 });
  });

  it('refuse a drain delay that leaves no grace, and grace periods that are not whole positive seconds', () => {
    expect(configError(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '5', SHUTDOWN_DRAIN_SECONDS: '5' }))).toContain('SHUTDOWN_DRAIN_SECONDS: must be less than SHUTDOWN_GRACE_SECONDS (5)');
    expect(configError(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '0' }))).toContain('SHUTDOWN_GRACE_SECONDS');
    expect(configError(() => loadConfig({ SHUTDOWN_GRACE_SECONDS: '1.5' }))).toContain('SHUTDOWN_GRACE_SECONDS');
    expect(configError(() => loadConfig({ SHUTDOWN_DRAIN_SECONDS: '-1' }))).toContain('SHUTDOWN_DRAIN_SECONDS');
  });
});

describe('draining and closing an IdP', () => {
  let server: TestServer;
  afterAll(async () => server?.stop().catch(() => undefined));

  /** A POST whose body is still being sent: a request in flight until `finish()`. */
  function slowPost(url: string) {
    let finish!: () => void;
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('{"event_id":');
      finish = () => req.end('"x"}');
    });
    return { answered, finish: () => finish() };
  }

  it('SIGTERM: /readyz says 503 during the drain (answers close their connection), a request in flight is answered after the listener closed, then nothing listens', async () => {
    server = await startTestServer();
    const inFlight = slowPost(`${server.url}/webhooks/didit`);
    await sleep(100); // the request is in, its body not finished
    let late = false;
    const done = shutdown({ readiness: server.readiness, close: server.close }, { graceMs: 5000, drainMs: 400 }, log, 'SIGTERM', () => (late = true));

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready', reason: 'shutting down' });
    expect(ready.headers.get('connection')).toBe('close');
    // Liveness is not readiness: the process is fine, it is leaving.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await sleep(600); // past the drain: the listener is closed now, the request still open
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    inFlight.finish();
    const answer = await inFlight.answered;
    expect(answer.status).toBe(401); // an answer of the app (unsigned webhook), not a cut connection
    await done;
    expect(late).toBe(false);
    expect(logs.some((l) => l.includes('"msg":"shut down"'))).toBe(true);
  });

  it('SIGINT (Ctrl-C) skips the drain delay', async () => {
    const closedAt: number[] = [];
    const started = Date.now();
    await shutdown({ readiness: { drain: () => {} } as never, close: async () => void closedAt.push(Date.now()) }, { graceMs: 60_000, drainMs: 30_000 }, log, 'SIGINT', () => {});
    expect(closedAt).toHaveLength(1);
    expect(closedAt[0]! - started).toBeLessThan(30_000);
  });

  it('the grace period ends what does not finish: onLate is called, with a log line', async () => {
    let late = false;
    const never = new Promise<void>(() => {});
    void shutdown({ readiness: { drain: () => {} } as never, close: () => never }, { graceMs: 300, drainMs: 0 }, log, 'SIGTERM', () => (late = true));
    await waitFor('onLate', () => late, 5000);
    expect(logs.some((l) => l.includes('grace period over with work unfinished'))).toBe(true);
  });
});

describe('the job queue on shutdown', () => {
  it('jobs still running at the deadline are released: another instance runs them at once, not after the claim timeout', async () => {
    const store = await testRedisStore('shutdown-queue');
    // A claim timeout far longer than the test: only the release lets the other queue in.
    const options = { pollMs: 50, claimMs: 600_000 };
    const a = new JobQueue(store, log, options);
    const b = new JobQueue(store, log, options);
    let started!: () => void;
    const aStarted = new Promise<void>((r) => (started = r));
    const ranOnB: Job[] = [];
    try {
      a.start({ slow: () => (started(), new Promise(() => {})) });
      const id = await a.schedule('slow', { n: 1 }, Date.now());
      await aStarted;
      expect(await store.get(K.jobClaim(id))).toBeDefined();
      const stopAt = Date.now();
      await a.stop(Date.now() + 200);
      expect(Date.now() - stopAt).toBeLessThan(5000);
      expect(await store.get(K.jobClaim(id))).toBeUndefined();
      expect(logs.some((l) => l.includes('releasing the jobs still running'))).toBe(true);

      b.start({ slow: async (job) => (ranOnB.push(job), { done: true }) });
      await waitFor('the job on b', () => ranOnB.length > 0, 10_000);
      expect(ranOnB.map((j) => j.id)).toEqual([id]);
    } finally {
      await b.stop();
      await store.close();
    }
  });

  it('a job that finishes before the deadline is not released: it completes where it ran', async () => {
    const store = await testRedisStore('shutdown-queue');
    const q = new JobQueue(store, log, { pollMs: 50, claimMs: 600_000 });
    const done: string[] = [];
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    try {
      q.start({ quick: async (job) => (started(), await sleep(200), done.push(job.id), { done: true }) });
      const id = await q.schedule('quick', {}, Date.now());
      await running;
      await q.stop(Date.now() + 5000);
      expect(done).toEqual([id]);
      expect(await store.get(K.job(id))).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
