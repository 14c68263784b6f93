import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiditApiError, DiditClient, DiditError } from '../../src/didit/index.ts';

const API_KEY = 'test-key-5f1e2d';
const SESSION_ID = '11111111-2222-3333-4444-555555555555';

type Seen = { method: string; url: string; headers: IncomingMessage['headers']; body: string };
let seen: Seen[] = [];

const decision = {
  session_id: SESSION_ID,
  session_number: 7,
  session_url: 'http://verifier/session/tok',
  status: 'Approved',
  workflow_id: 'wf-reauth',
  features: ['LIVENESS', 'FACE_MATCH'],
  vendor_data: 'acct-1',
  metadata: { purpose: 'login' },
  callback: 'https://idp.example/reauth/callback',
  created_at: '2026-11-26T10:00:00Z',
  expires_at: '2026-12-03T10:00:00Z',
  reviews: [],
  liveness_checks: [{ node_id: 'liveness_1', status: 'Approved', method: 'PASSIVE', score: 96, warnings: [] }],
  face_matches: [{ node_id: 'face_match_1', status: 'Approved', score: 94.3, warnings: [] }],
  ip_analyses: null,
  some_future_field: { kept: true },
};

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.headers['x-api-key'] === undefined) return send(res, 403, { detail: 'You do not have permission to perform this action.' });
  if (url.pathname === '/v3/session/echo-key/decision/') return send(res, 400, { detail: `bad key ${req.headers['x-api-key']}` });
  if (req.headers['x-api-key'] !== API_KEY) return send(res, 401, { detail: 'Invalid API key.' });

  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case 'POST /v3/session/': {
      const input = JSON.parse(body);
      if (!input.workflow_id) return send(res, 400, { workflow_id: ['This field is required.'] });
      return send(res, 201, {
        session_id: SESSION_ID,
        session_number: 7,
        session_token: 'tok',
        vendor_data: input.vendor_data,
        metadata: input.metadata,
        status: 'Not Started',
        workflow_id: input.workflow_id,
        callback: input.callback,
        url: 'http://verifier/session/tok',
      });
    }
    case `GET /v3/session/${SESSION_ID}/decision/`:
      return send(res, 200, decision);
    case 'GET /v3/session/limited/decision/':
      return send(res, 429, { detail: 'Request was throttled.' }, { 'Retry-After': '7', 'X-RateLimit-Remaining': '0' });
    case 'GET /v3/session/limited-date/decision/':
      return send(res, 429, { detail: 'Request was throttled.' }, { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() });
    case 'GET /v3/session/slow/decision/':
      return; // never answers; the client's timeout must fire
    case 'GET /v3/session/broken/decision/':
      return send(res, 200, { session_id: SESSION_ID, status: 'Maybe' });
    case 'GET /v3/session/html/decision/':
      res.writeHead(502, { 'content-type': 'text/html' });
      return void res.end('<h1>Bad gateway</h1>');
    case 'GET /v3/session/moved/decision/':
      return send(res, 302, undefined, { location: 'http://elsewhere.invalid/steal' });
    case `PATCH /v3/session/${SESSION_ID}/update-status/`:
      return send(res, 200, { session_id: SESSION_ID });
    case `DELETE /v3/session/${SESSION_ID}/delete/`:
      res.writeHead(204);
      return void res.end();
    case 'GET /v3/sessions/':
      return send(res, 200, {
        count: 1,
        next: null,
        previous: null,
        results: [{ session_id: SESSION_ID, status: 'Approved', vendor_data: url.searchParams.get('vendor_data'), features: [{ feature: 'LIVENESS', status: 'Approved' }] }],
      });
    default:
      return send(res, 404, { detail: 'Not found.' });
  }
}

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
});

const client = (options: Partial<ConstructorParameters<typeof DiditClient>[0]> = {}) =>
  new DiditClient({ baseUrl, apiKey: API_KEY, ...options });

async function apiError(promise: Promise<unknown>): Promise<DiditApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DiditApiError);
  return error as DiditApiError;
}

describe('DiditClient success paths', () => {
  it('creates a session with x-api-key and a JSON body', async () => {
    const created = await client().createSession({
      workflow_id: 'wf-reauth',
      vendor_data: 'acct-1',
      callback: 'https://idp.example/reauth/callback',
      metadata: { purpose: 'login' },
    });
    expect(created).toMatchObject({ session_id: SESSION_ID, status: 'Not Started', url: 'http://verifier/session/tok', vendor_data: 'acct-1' });
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', url: '/v3/session/' });
    expect(request!.headers['x-api-key']).toBe(API_KEY);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({
      workflow_id: 'wf-reauth',
      vendor_data: 'acct-1',
      callback: 'https://idp.example/reauth/callback',
      metadata: { purpose: 'login' },
    });
  });

  it('gets a decision and keeps unknown fields', async () => {
    const got = await client().getDecision(SESSION_ID);
    expect(got.status).toBe('Approved');
    expect(got.liveness_checks?.[0]?.score).toBe(96);
    expect(got.ip_analyses).toBeNull();
    expect(got.some_future_field).toEqual({ kept: true });
    expect(seen[0]).toMatchObject({ method: 'GET', url: `/v3/session/${SESSION_ID}/decision/`, body: '' });
  });

  it('updates a status with PATCH', async () => {
    expect(await client().updateStatus(SESSION_ID, { new_status: 'Approved', comment: 'operator ok' })).toEqual({ session_id: SESSION_ID });
    expect(seen[0]).toMatchObject({ method: 'PATCH', url: `/v3/session/${SESSION_ID}/update-status/` });
    expect(JSON.parse(seen[0]!.body)).toEqual({ new_status: 'Approved', comment: 'operator ok' });
  });

  it('deletes a session (204, no body)', async () => {
    await expect(client().deleteSession(SESSION_ID)).resolves.toBeUndefined();
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: `/v3/session/${SESSION_ID}/delete/` });
  });

  it('lists sessions with only the query fields given', async () => {
    const list = await client().listSessions({ vendor_data: 'acct 1', status: 'In Review', limit: 10, offset: undefined });
    expect(list.count).toBe(1);
    expect(list.results[0]!.vendor_data).toBe('acct 1');
    expect(seen[0]!.url).toBe('/v3/sessions/?vendor_data=acct+1&status=In+Review&limit=10');
    await client().listSessions();
    expect(seen[1]!.url).toBe('/v3/sessions/');
  });

  it('escapes session ids into one path segment', async () => {
    await apiError(client().getDecision('../sessions'));
    expect(seen[0]!.url).toBe('/v3/session/..%2Fsessions/decision/');
  });
});

describe('DiditClient errors', () => {
  it('401 on a wrong key, without the key in the message', async () => {
    const error = await apiError(client({ apiKey: 'wrong-key-abc' }).getDecision(SESSION_ID));
    expect(error.status).toBe(401);
    expect(error.body).toEqual({ detail: 'Invalid API key.' });
    expect(error.message).toContain('401');
    expect(error.message).toContain('Invalid API key.');
    expect(error.message).not.toContain('wrong-key-abc');
    expect(error.retryAfter).toBeUndefined();
  });

  it('redacts the key if the server echoes it back', async () => {
    const error = await apiError(client().getDecision('echo-key'));
    expect(error.status).toBe(400);
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).toContain('[redacted]');
  });

  it('404 with the detail body', async () => {
    const error = await apiError(client().getDecision('no-such-session'));
    expect(error.status).toBe(404);
    expect(error.body).toEqual({ detail: 'Not found.' });
    expect(error.kind).toBe('http');
  });

  it('400 with field-keyed messages', async () => {
    const error = await apiError(client().createSession({ workflow_id: '' }));
    expect(error.status).toBe(400);
    expect(error.body).toEqual({ workflow_id: ['This field is required.'] });
  });

  it('429 with Retry-After in seconds or as an HTTP date', async () => {
    const error = await apiError(client().getDecision('limited'));
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(7);
    const dated = await apiError(client().getDecision('limited-date'));
    expect(dated.retryAfter).toBeGreaterThanOrEqual(28);
    expect(dated.retryAfter).toBeLessThanOrEqual(31);
  });

  it('keeps a non-JSON error body as text', async () => {
    const error = await apiError(client().getDecision('html'));
    expect(error.status).toBe(502);
    expect(error.body).toBe('<h1>Bad gateway</h1>');
  });

  it('does not follow redirects (they would carry the api key elsewhere)', async () => {
    const error = await apiError(client().getDecision('moved'));
    expect(error.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  it('times out', async () => {
    const started = Date.now();
    const error = await client({ timeoutMs: 150 }).getDecision('slow').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiditError);
    expect(error).not.toBeInstanceOf(DiditApiError);
    expect((error as DiditError).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a response that breaks the contract', async () => {
    const error = await client().getDecision('broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiditError);
    expect((error as DiditError).kind).toBe('invalid_response');
    expect((error as DiditError).message).toContain('status');
  });

  it('reports a refused connection as a network error without the key', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await new DiditClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY }).getDecision(SESSION_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiditError);
    expect((error as DiditError).kind).toBe('network');
    expect((error as DiditError).message).not.toContain(API_KEY);
  });

  it('keeps the key out of the client object when it is logged', () => {
    const c = client();
    expect(JSON.stringify(c)).not.toContain(API_KEY);
    expect(Object.values(c)).not.toContain(API_KEY);
  });

  it('refuses to be built without a key', () => {
    expect(() => new DiditClient({ baseUrl, apiKey: '' })).toThrow(TypeError);
  });
});
