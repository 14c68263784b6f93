// The v3 API with good and bad input: keys, bodies, workflows, unknown sessions, rate limits,
// reuse of unfinished sessions, update-status, delete and list. No images here (the face engine
// is never started); captures are in capture.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiditApiError, DiditClient, createSessionResponseSchema, decisionSchema, sessionListSchema } from '../../src/didit/index.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { API_KEY, api, startTestVerifier } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 1 });
let v: TestVerifier;

beforeAll(async () => {
  v = await startTestVerifier({ face, env: { VERIFIER_RATE_LIMITS: 'create=1000,read=1000,write=1000' } });
});
afterAll(async () => {
  await v?.stop();
  await face.close();
});

const create = (body: Record<string, unknown>, opts?: Parameters<typeof api>[4]) => api(v, 'POST', '/v3/session/', body, opts);

describe('POST /v3/session/', () => {
  it('creates a session in the contract shape', async () => {
    const res = await create({ workflow_id: 'kyc', vendor_data: 'user-1', callback: 'https://rp.example/cb', metadata: { purpose: 'signup' }, language: 'id' });
    expect(res.status).toBe(201);
    expect(createSessionResponseSchema.safeParse(res.body).success).toBe(true);
    expect(res.body).toMatchObject({ vendor_data: 'user-1', metadata: { purpose: 'signup' }, status: 'Not Started', workflow_id: 'kyc', callback: 'https://rp.example/cb' });
    expect(res.body.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.url).toBe(`${v.publicUrl}/session/${res.body.session_token}`);
    expect(res.body.session_token.length).toBeGreaterThanOrEqual(24);
    expect(res.headers.get('x-ratelimit-limit')).toBe('1000');
  });

  it('returns the unfinished session for the same vendor_data and workflow, with callback and metadata updated', async () => {
    const first = await create({ workflow_id: 'kyc', vendor_data: 'user-reuse', callback: 'https://rp.example/one', metadata: { n: 1 } });
    const again = await create({ workflow_id: 'kyc', vendor_data: 'user-reuse', callback: 'https://rp.example/two', metadata: { n: 2 } });
    expect(again.status).toBe(201);
    expect(again.body.session_id).toBe(first.body.session_id);
    expect(again.body).toMatchObject({ callback: 'https://rp.example/two', metadata: { n: 2 } });
    const other = await create({ workflow_id: 'ip-only', vendor_data: 'user-reuse' });
    expect(other.body.session_id).not.toBe(first.body.session_id);
    // Concurrent requests for one user end with one session.
    const racing = await Promise.all([1, 2, 3, 4].map(() => create({ workflow_id: 'ip-only', vendor_data: 'user-race' })));
    expect(new Set(racing.map((r) => r.body.session_id)).size).toBe(1);
  });

  it('accepts metadata sent as a JSON string, and ignores workflow_type', async () => {
    const res = await create({ workflow_id: 'kyc', metadata: '{"a":1}', workflow_type: 'kyc' });
    expect(res.status).toBe(201);
    expect(res.body.metadata).toEqual({ a: 1 });
    expect(res.body.vendor_data).toBeNull();
  });

  it('403 without a key, 401 with a wrong one', async () => {
    const none = await create({ workflow_id: 'kyc' }, { key: null });
    expect(none.status).toBe(403);
    expect(none.body).toEqual({ detail: 'You do not have permission to perform this action.' });
    const wrong = await create({ workflow_id: 'kyc' }, { key: 'not-a-key-of-ours-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toBeTypeOf('string');
  });

  it('415 for a wrong content type, 400 for bad JSON or a non-object', async () => {
    const text = await create({ workflow_id: 'kyc' }, { headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(text.body.detail).toMatch(/Unsupported media type/);
    const bad = await api(v, 'POST', '/v3/session/', '{"workflow_id": ', { headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/JSON parse error/);
    const arr = await api(v, 'POST', '/v3/session/', '[1,2]');
    expect(arr.status).toBe(400);
    expect(arr.body).toHaveProperty('non_field_errors');
  });

  it('400 keyed by field: missing workflow, unknown workflow, bad callback, bad language', async () => {
    expect((await create({})).body).toHaveProperty('workflow_id');
    const unknown = await create({ workflow_id: 'no-such-workflow' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.workflow_id[0]).toMatch(/not found/);
    const cb = await create({ workflow_id: 'kyc', callback: 'javascript:alert(1)' });
    expect(cb.status).toBe(400);
    expect(cb.body).toHaveProperty('callback');
    const lang = await create({ workflow_id: 'kyc', language: 'english' });
    expect(lang.body).toHaveProperty('language');
  });

  it('400 on portrait_image that is not base64, too large, or not a JPEG', async () => {
    const notB64 = await create({ workflow_id: 'face-only', portrait_image: 'not base64!' });
    expect(notB64.status).toBe(400);
    expect(notB64.body.portrait_image[0]).toMatch(/base64/);
    const big = await create({ workflow_id: 'face-only', portrait_image: Buffer.alloc(1024 * 1024 + 3, 0xff).toString('base64') });
    expect(big.status).toBe(400);
    expect(big.body.portrait_image[0]).toMatch(/1 MB/);
    const png = await create({ workflow_id: 'face-only', portrait_image: Buffer.from('\x89PNG\r\n\x1a\nnot really').toString('base64') });
    expect(png.status).toBe(400);
    expect(png.body.portrait_image[0]).toMatch(/JPEG/);
    const tooBigBody = await api(v, 'POST', '/v3/session/', JSON.stringify({ workflow_id: 'face-only', padding: 'x'.repeat(3 * 1024 * 1024) }));
    expect(tooBigBody.status).toBe(413);
  });
});

describe('decision, update-status, delete, list', () => {
  it('GET decision: the session with null feature blocks until they run', async () => {
    const { body: s } = await create({ workflow_id: 'reauth', vendor_data: 'user-d', metadata: { x: 'ü' } });
    const res = await api(v, 'GET', `/v3/session/${s.session_id}/decision/`);
    expect(res.status).toBe(200);
    expect(decisionSchema.safeParse(res.body).success).toBe(true);
    expect(res.body).toMatchObject({
      session_id: s.session_id,
      session_number: s.session_number,
      session_url: s.url,
      status: 'Not Started',
      features: ['LIVENESS', 'FACE_MATCH', 'IP_ANALYSIS'],
      vendor_data: 'user-d',
      metadata: { x: 'ü' },
      reviews: [],
      liveness_checks: null,
      face_matches: null,
      ip_analyses: null,
    });
    const created = Date.parse(res.body.created_at);
    expect(Date.parse(res.body.expires_at) - created).toBe(7 * 86_400_000);
  });

  it('404 {"detail": "Not found."} for unknown and malformed ids; auth is checked first', async () => {
    for (const id of ['11111111-2222-4333-8444-555555555555', 'nope', '..%2F..%2Fetc']) {
      const res = await api(v, 'GET', `/v3/session/${id}/decision/`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: 'Not found.' });
    }
    expect((await api(v, 'GET', '/v3/session/11111111-2222-4333-8444-555555555555/decision/', undefined, { key: null })).status).toBe(403);
    expect((await api(v, 'PATCH', '/v3/session/11111111-2222-4333-8444-555555555555/update-status/', { new_status: 'Approved' })).status).toBe(404);
    expect((await api(v, 'DELETE', '/v3/session/11111111-2222-4333-8444-555555555555/delete/')).status).toBe(404);
    expect((await api(v, 'GET', '/v3/nothing-here/')).body).toEqual({ detail: 'Not found.' });
  });

  it('update-status: refused from Not Started, validated, allowed after a verdict', async () => {
    const { body: s } = await create({ workflow_id: 'kyc', vendor_data: 'user-u' });
    const early = await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'Approved' });
    expect(early.status).toBe(400);
    expect(early.body.new_status[0]).toMatch(/Not Started/);
    const bad = await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'In Review' });
    expect(bad.status).toBe(400);
    expect(bad.body).toHaveProperty('new_status');
    const badJson = await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, '{', { headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
  });

  it('DELETE removes the session and its page; a second delete is 404', async () => {
    const { body: s } = await create({ workflow_id: 'kyc', vendor_data: 'user-del' });
    const del = await api(v, 'DELETE', `/v3/session/${s.session_id}/delete/`);
    expect(del.status).toBe(204);
    expect((await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).status).toBe(404);
    expect((await fetch(s.url)).status).toBe(404);
    expect((await api(v, 'DELETE', `/v3/session/${s.session_id}/delete/`)).status).toBe(404);
    // The next create for that user opens a new session.
    expect((await create({ workflow_id: 'kyc', vendor_data: 'user-del' })).body.session_id).not.toBe(s.session_id);
  });

  it('GET sessions: filters, newest first, pagination links; bad query → 400', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ workflow_id: i === 1 ? 'kyc' : 'ip-only', vendor_data: `lister-${i}` })).body.session_id);
    await create({ workflow_id: 'ip-only', vendor_data: 'lister-other' });
    const all = await api(v, 'GET', '/v3/sessions/?limit=2');
    expect(all.status).toBe(200);
    expect(sessionListSchema.safeParse(all.body).success).toBe(true);
    expect(all.body.results).toHaveLength(2);
    expect(all.body.next).toMatch(/offset=2/);
    expect(all.body.previous).toBeNull();
    const nums = all.body.results.map((r: { session_number: number }) => r.session_number);
    expect(nums[0]).toBeGreaterThan(nums[1]);
    const second = await api(v, 'GET', new URL(all.body.next).pathname + new URL(all.body.next).search);
    expect(second.body.previous).toMatch(/offset=0/);

    const one = await api(v, 'GET', '/v3/sessions/?vendor_data=lister-1');
    expect(one.body.count).toBe(1);
    expect(one.body.results[0]).toMatchObject({ session_id: ids[1], workflow_id: 'kyc', status: 'Not Started', vendor_data: 'lister-1' });
    expect(one.body.results[0].features).toEqual([{ feature: 'LIVENESS', status: 'Not Finished' }, { feature: 'IP_ANALYSIS', status: 'Not Finished' }]);
    const byWorkflow = await api(v, 'GET', '/v3/sessions/?workflow_id=kyc&status=Not%20Started&limit=100');
    expect(byWorkflow.body.results.every((r: { workflow_id: string }) => r.workflow_id === 'kyc')).toBe(true);
    expect((await api(v, 'GET', '/v3/sessions/?status=Finished')).status).toBe(400);
    expect((await api(v, 'GET', '/v3/sessions/?limit=0')).body).toHaveProperty('limit');
    expect((await api(v, 'GET', '/v3/sessions/?offset=-1')).body).toHaveProperty('offset');
  });

  it('405 for a method the path does not have', async () => {
    const res = await api(v, 'PUT', '/v3/session/');
    expect(res.status).toBe(405);
    expect(res.body.detail).toMatch(/not allowed/);
  });

  it('the shared DiditClient talks to it unchanged', async () => {
    const client = new DiditClient({ baseUrl: v.url, apiKey: API_KEY });
    const s = await client.createSession({ workflow_id: 'kyc', vendor_data: 'client-user', callback: 'https://rp.example/cb' });
    expect((await client.getDecision(s.session_id)).status).toBe('Not Started');
    expect((await client.listSessions({ vendor_data: 'client-user' })).count).toBe(1);
    await client.deleteSession(s.session_id);
    await expect(client.getDecision(s.session_id)).rejects.toBeInstanceOf(DiditApiError);
    // The in-process IdP's key works too, and only in this process.
    const embedded = new DiditClient({ baseUrl: v.url, apiKey: v.clientApiKey });
    expect((await embedded.createSession({ workflow_id: 'kyc' })).status).toBe('Not Started');
  });
});

describe('rate limit', () => {
  it('429 with Retry-After and X-RateLimit-* once a key is over its window', async () => {
    const limited = await startTestVerifier({ face, env: { VERIFIER_RATE_LIMITS: 'read=3', VERIFIER_RATE_LIMIT_WINDOW: '5s' } });
    try {
      const path = '/v3/sessions/';
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await api(limited, 'GET', path));
      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
      const over = answers[3]!;
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(5);
      expect(over.headers.get('x-ratelimit-limit')).toBe('3');
      expect(Number(over.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      expect(over.body.detail).toMatch(/throttled/);
      // Writes have their own budget (default 300), so the key can still create.
      expect((await api(limited, 'POST', '/v3/session/', { workflow_id: 'kyc' })).status).toBe(201);
      const client = new DiditClient({ baseUrl: limited.url, apiKey: API_KEY });
      const err = await client.listSessions().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DiditApiError);
      expect((err as DiditApiError).status).toBe(429);
      expect((err as DiditApiError).retryAfter).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.stop();
    }
  });
});
