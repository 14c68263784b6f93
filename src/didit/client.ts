// One client for the v3 contract, used by the IdP against the real service and the embedded
// verifier alike, so both paths exercise the same requests and the same response checks.
import type { z } from 'zod';
import {
  blocklistListSchema,
  blocklistUpdateResponseSchema,
  createSessionResponseSchema,
  decisionSchema,
  sessionListSchema,
  updateStatusResponseSchema,
  type ReceivedBlocklistList,
  type ReceivedBlocklistUpdate,
  type ReceivedCreateSession,
  type ReceivedDecision,
  type ReceivedSessionList,
  type ReceivedUpdateStatus,
} from './schemas.ts';
import type { CreateSessionRequest, ListSessionsQuery, UpdateStatusRequest } from './types.ts';

export const DEFAULT_BASE_URL = 'https://verification.didit.me';

export type DiditClientOptions = {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
};

export type DiditErrorKind = 'http' | 'timeout' | 'network' | 'invalid_response';

/** Anything that went wrong talking to the service; DiditApiError when it answered non-2xx. */
export class DiditError extends Error {
  readonly kind: DiditErrorKind;
  constructor(kind: DiditErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiditError';
    this.kind = kind;
  }
}

export class DiditApiError extends DiditError {
  readonly status: number;
  /** Parsed JSON when the service sent JSON (`{"detail": ...}`, field-keyed 400s), else text. */
  readonly body: unknown;
  /** Seconds to wait, from Retry-After (delta-seconds or HTTP date). */
  readonly retryAfter?: number;
  constructor(message: string, status: number, body: unknown, retryAfter?: number) {
    super('http', message);
    this.name = 'DiditApiError';
    this.status = status;
    this.body = body;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

const MAX_MESSAGE_BODY = 300;

function summarise(body: unknown): string {
  if (body === null) return '';
  const s = typeof body === 'string' ? body : JSON.stringify(body);
  return s.length > MAX_MESSAGE_BODY ? `${s.slice(0, MAX_MESSAGE_BODY)}…` : s;
}

export class DiditClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  // Private so the key never shows up in logs of the client object or in error messages.
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: DiditClientOptions) {
    if (!options.apiKey) throw new TypeError('DiditClient needs an apiKey');
    this.baseUrl = new URL(options.baseUrl).toString().replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  createSession(request: CreateSessionRequest): Promise<ReceivedCreateSession> {
    return this.#call('POST', '/v3/session/', createSessionResponseSchema, request);
  }

  getDecision(sessionId: string): Promise<ReceivedDecision> {
    return this.#call('GET', `/v3/session/${segment(sessionId)}/decision/`, decisionSchema);
  }

  updateStatus(sessionId: string, request: UpdateStatusRequest): Promise<ReceivedUpdateStatus> {
    return this.#call('PATCH', `/v3/session/${segment(sessionId)}/update-status/`, updateStatusResponseSchema, request);
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.#call('DELETE', `/v3/session/${segment(sessionId)}/delete/`, null);
  }

  listSessions(query: ListSessionsQuery = {}): Promise<ReceivedSessionList> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const qs = params.toString();
    return this.#call('GET', `/v3/sessions/${qs ? `?${qs}` : ''}`, sessionListSchema);
  }

  /**
   * Blocklist the face a session showed (Didit's POST /v3/blocklist/add/ with blocklist_face):
   * later enrolments and sign-ins with that face are Declined with FACE_IN_BLOCKLIST. 404 when
   * the session is unknown, 400 when it holds no face.
   */
  addToBlocklist(sessionId: string): Promise<ReceivedBlocklistUpdate> {
    return this.#call('POST', '/v3/blocklist/add/', blocklistUpdateResponseSchema, { session_id: sessionId, blocklist_face: true });
  }

  /** Take a session's face off the blocklist (Didit's POST /v3/blocklist/remove/ with unblock_face). */
  removeFromBlocklist(sessionId: string): Promise<ReceivedBlocklistUpdate> {
    return this.#call('POST', '/v3/blocklist/remove/', blocklistUpdateResponseSchema, { session_id: sessionId, unblock_face: true });
  }

  /** The blocklisted faces (GET /v3/blocklist/: the embedded verifier's extension, not Didit's API). */
  listBlocklist(): Promise<ReceivedBlocklistList> {
    return this.#call('GET', '/v3/blocklist/', blocklistListSchema);
  }

  async #call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.output<S>>;
  async #call(method: string, path: string, schema: null, body?: unknown): Promise<null>;
  async #call(method: string, path: string, schema: z.ZodType | null, body?: unknown): Promise<unknown> {
    const what = `Didit ${method} ${path.split('?')[0]}`;
    const headers: Record<string, string> = { 'x-api-key': this.#apiKey, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    let text: string;
    try {
      // One signal for the whole exchange, so a server that stalls mid-body also times out.
      const signal = AbortSignal.timeout(this.timeoutMs);
      response = await this.#fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        // fetch would replay x-api-key to wherever a redirect points; our paths are canonical,
        // so any 3xx surfaces as a DiditApiError instead.
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      if (timedOut) throw new DiditError('timeout', `${what} timed out after ${this.timeoutMs} ms`, { cause: error });
      const reason = error instanceof Error ? error.message : String(error);
      throw new DiditError('network', this.#redact(`${what} failed: ${reason}`), { cause: error });
    }

    const parsedBody = parseBody(text, response.headers.get('content-type'));
    if (!response.ok) {
      const detail = summarise(parsedBody);
      const message = this.#redact(`${what} → ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`);
      throw new DiditApiError(message, response.status, parsedBody, parseRetryAfter(response.headers.get('retry-after'), Date.now()));
    }
    if (schema === null) return null;

    const result = schema.safeParse(parsedBody);
    if (!result.success) {
      const issues = result.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new DiditError('invalid_response', this.#redact(`${what} → ${response.status} with an unexpected body: ${issues}`));
    }
    return result.data;
  }

  // A misbehaving server could echo the key back; it must not reach logs through us.
  #redact(message: string): string {
    return message.split(this.#apiKey).join('[redacted]');
  }
}

function segment(id: string): string {
  if (!id) throw new TypeError('session id must be a non-empty string');
  return encodeURIComponent(id);
}
