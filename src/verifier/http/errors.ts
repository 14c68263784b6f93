// Errors in the real service's shapes (Django REST framework): `{"detail": "..."}` for most,
// field-keyed lists for validation. Anything unexpected is a 500 with no internals in the body.
import type { Context, Next } from 'koa';
import { HttpError } from '../../http/body.ts';
import { LockTimeoutError } from '../lock.ts';
import { OUTAGE_MESSAGE, OUTAGE_RETRY_AFTER_SECONDS, isStoreUnavailable } from '../../http/outage.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(status: number, body: Record<string, unknown> | string, headers: Record<string, string> = {}) {
    const payload = typeof body === 'string' ? { detail: body } : body;
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.status = status;
    this.body = payload;
    this.headers = headers;
  }
}

// A session's lock still held (by a request that died with the store, until its TTL runs out): busy, not broken.
const BUSY_MESSAGE = 'This session is busy with another request; please try again in a moment.';

export const NOT_FOUND = () => new ApiError(404, 'Not found.');
export const fieldErrors = (errors: Record<string, string[]>) => new ApiError(400, errors);

/** Our own HttpErrors (from the body readers) carry the status; their text is reworded here. */
function fromHttpError(ctx: Context, err: HttpError): ApiError {
  if (err.status === 415) return new ApiError(415, `Unsupported media type "${ctx.get('content-type') || 'none'}" in request.`);
  if (err.status === 413) return new ApiError(413, 'Request body too large.');
  if (err.status === 400 && /JSON/.test(err.message)) return new ApiError(400, 'JSON parse error - the request body is not valid JSON.');
  return new ApiError(err.status, err.message);
}

export function apiErrors() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw NOT_FOUND();
      if (ctx.status === 405 && ctx.body === undefined) throw new ApiError(405, `Method "${ctx.method}" not allowed.`);
    } catch (caught) {
      let err = caught;
      if (err instanceof HttpError) err = fromHttpError(ctx, err);
      if (isStoreUnavailable(err) || err instanceof LockTimeoutError) {
        ctx.state.log?.warn({ err: (err as Error).message }, 'verifier: store unavailable or busy: 503');
        err = new ApiError(503, err instanceof LockTimeoutError ? BUSY_MESSAGE : OUTAGE_MESSAGE, { 'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS) });
      }
      if (!(err instanceof ApiError)) {
        const status = (err as { status?: number }).status;
        if (status === 405) err = new ApiError(405, `Method "${ctx.method}" not allowed.`);
        else {
          ctx.state.log?.error({ err }, 'verifier: unhandled error');
          err = new ApiError(500, 'A server error occurred.');
        }
      }
      const e = err as ApiError;
      ctx.status = e.status;
      ctx.body = e.body;
      for (const [name, value] of Object.entries(e.headers)) ctx.set(name, value);
    }
  };
}

/** The hosted pages: a store outage is a short 503 page (or JSON for the page's own fetches), not a 500. */
export function pageOutage() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (!isStoreUnavailable(err) && !(err instanceof LockTimeoutError)) throw err;
      ctx.state.log?.warn({ err: (err as Error).message }, 'verifier: store unavailable or busy: 503');
      ctx.status = 503;
      ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
      if (ctx.accepts(['html', 'json']) === 'html') {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Temporarily unavailable</title><h1>Temporarily unavailable</h1><p>${OUTAGE_MESSAGE}</p></html>`;
      } else ctx.body = { detail: OUTAGE_MESSAGE };
    }
  };
}
