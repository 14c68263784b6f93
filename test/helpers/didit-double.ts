// A small local double of the real Didit service, built from the documented v3 contract
// (../shared/didit/CONTRACT.md) and nothing of ours but the shared contract module. The IdP's
// sign-in suite runs against it to prove "real Didit mode" is configuration only.
//
// The test decides each session's outcome (the double has no face engine): `complete()` sets
// the status and sends the signed webhook; the hosted page then redirects to the callback.
import { randomUUID, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhook } from '../../src/didit/index.ts';

type Session = {
  session_id: string;
  session_number: number;
  session_token: string;
  vendor_data: string | null;
  metadata: Record<string, unknown> | null;
  status: string;
  workflow_id: string;
  callback: string | null;
  portrait_image: string | null;
  language: string | null;
  created_at: string;
  /** What the user "captured" (set by the test): served as the retained reference image. */
  capturedImage?: Buffer;
  /** Risks the LIVENESS block of the decision carries (set by the test), e.g. ALREADY_ENROLLED. */
  risks?: string[];
};

export type DiditDouble = {
  url: string;
  apiKey: string;
  webhookSecret: string;
  sessions: Map<string, Session>;
  /** When true the decision endpoint answers 503 (an outage). */
  failDecisions: boolean;
  /** Ids the client deleted, in order. */
  deletedSessions: string[];
  /** Every webhook body the double delivered, with the receiver's status code. */
  deliveries: { body: string; status: number }[];
  setWebhookUrl(url: string): void;
  complete(sessionId: string, status: string): Promise<number>;
  close(): Promise<void>;
};

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export async function startDiditDouble(): Promise<DiditDouble> {
  const apiKey = `test-key-${randomBytes(8).toString('hex')}`;
  const webhookSecret = `whsec-${randomBytes(16).toString('hex')}`;
  const sessions = new Map<string, Session>();
  const deliveries: { body: string; status: number }[] = [];
  let webhookUrl = '';
  let counter = 1000;
  let base = '';

  const decision = (s: Session) => ({
    session_id: s.session_id,
    session_number: s.session_number,
    session_url: `${base}/session/${s.session_token}`,
    status: s.status,
    workflow_id: s.workflow_id,
    features: ['LIVENESS', 'FACE_MATCH'],
    vendor_data: s.vendor_data,
    metadata: s.metadata,
    callback: s.callback,
    created_at: s.created_at,
    reviews: [],
    liveness_checks: s.risks
      ? [{ node_id: 'liveness_1', status: s.status, method: 'PASSIVE', score: 0, reference_image: null, warnings: s.risks.map((risk) => ({ feature: 'LIVENESS', risk, additional_data: null, log_type: 'error', short_description: risk, long_description: risk, node_id: 'liveness_1' })) }]
      : s.status === 'Approved' && s.capturedImage ? [{ node_id: 'liveness_1', status: 'Approved', method: 'PASSIVE', score: 97, reference_image: `${base}/media/${s.session_id}.jpg`, warnings: [] }] : null,
    face_matches: null,
    ip_analyses: null,
  });

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url!, base);
    const media = /^\/media\/([^/]+)\.jpg$/.exec(url.pathname);
    if (req.method === 'GET' && media) {
      const image = sessions.get(media[1]!)?.capturedImage;
      if (!image) return json(res, 404, { detail: 'Not found.' });
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      return res.end(image);
    }
    const page = /^\/session\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && page) {
      // The hosted page: in the double the capture has already been decided by the test.
      const s = [...sessions.values()].find((x) => x.session_token === page[1]);
      if (!s) return json(res, 404, { detail: 'Not found.' });
      const back = new URL(s.callback!);
      back.searchParams.set('verificationSessionId', s.session_id);
      back.searchParams.set('status', s.status);
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (!req.headers['x-api-key']) return json(res, 403, { detail: 'You do not have permission to perform this action.' });
    if (req.headers['x-api-key'] !== apiKey) return json(res, 401, { detail: 'Invalid API key.' });
    if (req.method === 'POST' && url.pathname === '/v3/session/') {
      const input = JSON.parse(await body(req));
      if (!input.workflow_id) return json(res, 400, { workflow_id: ['This field is required.'] });
      // As documented: an unfinished session for the same vendor_data and workflow is handed back,
      // with callback and metadata updated.
      const unfinished = [...sessions.values()].find(
        (x) => x.vendor_data !== null && x.vendor_data === (input.vendor_data ?? null) && x.workflow_id === input.workflow_id && ['Not Started', 'In Progress', 'Resubmitted'].includes(x.status),
      );
      if (unfinished) {
        unfinished.callback = input.callback ?? unfinished.callback;
        unfinished.metadata = input.metadata ?? unfinished.metadata;
        unfinished.portrait_image = input.portrait_image ?? unfinished.portrait_image;
        const { portrait_image: _p, language: _l, created_at: _c, capturedImage: _i, ...again } = unfinished;
        return json(res, 201, { ...again, url: `${base}/session/${unfinished.session_token}` });
      }
      const s: Session = {
        session_id: randomUUID(),
        session_number: counter++,
        session_token: randomBytes(12).toString('hex'),
        vendor_data: input.vendor_data ?? null,
        metadata: input.metadata ?? null,
        status: 'Not Started',
        workflow_id: input.workflow_id,
        callback: input.callback ?? null,
        portrait_image: input.portrait_image ?? null,
        language: input.language ?? null,
        created_at: new Date().toISOString(),
      };
      sessions.set(s.session_id, s);
      const { portrait_image: _p, language: _l, created_at: _c, ...response } = s;
      return json(res, 201, { ...response, url: `${base}/session/${s.session_token}` });
    }
    // DELETE /v3/session/{id}/delete/ → 204, as documented; 404 for an unknown id.
    const deleted = /^\/v3\/session\/([^/]+)\/delete\/$/.exec(url.pathname);
    if (req.method === 'DELETE' && deleted) {
      if (!sessions.delete(deleted[1]!)) return json(res, 404, { detail: 'Not found.' });
      double.deletedSessions.push(deleted[1]!);
      res.writeHead(204);
      return res.end();
    }
    // GET /v3/sessions/?vendor_data=&status=&workflow_id=&offset=&limit= → a page, as documented.
    if (req.method === 'GET' && url.pathname === '/v3/sessions/') {
      const q = url.searchParams;
      const matching = [...sessions.values()].filter(
        (x) => (!q.has('vendor_data') || x.vendor_data === q.get('vendor_data')) && (!q.has('status') || x.status === q.get('status')) && (!q.has('workflow_id') || x.workflow_id === q.get('workflow_id')),
      );
      const offset = Number(q.get('offset') ?? 0);
      const limit = Number(q.get('limit') ?? 50);
      const page = matching.slice(offset, offset + limit);
      const next = offset + limit < matching.length ? `${base}/v3/sessions/?offset=${offset + limit}&limit=${limit}` : null;
      return json(res, 200, {
        count: matching.length,
        next,
        previous: null,
        results: page.map((x) => ({ session_id: x.session_id, session_number: x.session_number, status: x.status, workflow_id: x.workflow_id, vendor_data: x.vendor_data, created_at: x.created_at })),
      });
    }
    const decided = /^\/v3\/session\/([^/]+)\/decision\/$/.exec(url.pathname);
    if (req.method === 'GET' && decided && double.failDecisions) return json(res, 503, { detail: 'Service unavailable.' });
    if (req.method === 'GET' && decided) {
      const s = sessions.get(decided[1]!);
      return s ? json(res, 200, decision(s)) : json(res, 404, { detail: 'Not found.' });
    }
    return json(res, 404, { detail: 'Not found.' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const double: DiditDouble = {
    failDecisions: false,
    deletedSessions: [],
    url: base,
    apiKey,
    webhookSecret,
    sessions,
    deliveries,
    setWebhookUrl(u: string) {
      webhookUrl = u;
    },
    async complete(sessionId: string, status: string) {
      const s = sessions.get(sessionId)!;
      s.status = status;
      const now = Math.floor(Date.now() / 1000);
      const envelope = {
        event_id: randomUUID(),
        webhook_type: 'status.updated',
        timestamp: now,
        created_at: now,
        session_id: s.session_id,
        status,
        workflow_id: s.workflow_id,
        vendor_data: s.vendor_data,
        metadata: s.metadata,
        ...(['Approved', 'Declined', 'In Review', 'Abandoned'].includes(status) ? { decision: decision(s) } : {}),
      };
      const signed = signWebhook(envelope, webhookSecret);
      const res = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...signed.headers }, body: signed.body });
      deliveries.push({ body: signed.body, status: res.status });
      return res.status;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return double;
}

/**
 * The IdP's environment for remote mode (DIDIT_*) against this double: what a deployment on the
 * real Didit sets. `portraitKey`: give a fixed one to restart a server on the same store.
 */
export function remoteModeEnv(double: Pick<DiditDouble, 'apiKey' | 'url' | 'webhookSecret'>, { reauthWorkflowId = 'wf-reauth', portraitKey = randomBytes(32).toString('base64') } = {}): Record<string, string> {
  return {
    DIDIT_API_KEY: double.apiKey,
    DIDIT_BASE_URL: double.url,
    DIDIT_WEBHOOK_SECRET: double.webhookSecret,
    DIDIT_REAUTH_WORKFLOW_ID: reauthWorkflowId,
    DIDIT_ENROL_WORKFLOW_ID: 'wf-enrol',
    PORTRAIT_KEY: portraitKey,
  };
}
