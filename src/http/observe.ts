// What every HTTP app of the project does to every request: a request id (an incoming
// X-Request-Id is kept when well-formed), a per-request child logger, one log line when the
// response is finished (whoever wrote it), and the baseline security headers.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../logger.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export type Finished = { ctx: Context; status: number; seconds: number };

export function observeRequests(log: Logger, options: { message: string; fields: (f: Finished) => Record<string, unknown>; onFinish?: (f: Finished) => void }) {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    ctx.res.once('finish', () => {
      const finished = { ctx, status: ctx.res.statusCode, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
      options.onFinish?.(finished);
      ctx.state.log[finished.status >= 500 ? 'error' : 'info']({ method: ctx.method, ...options.fields(finished), status: finished.status, ms: Math.round(finished.seconds * 1000) }, options.message);
    });
    await next();
  };
}

export function securityHeaders(https: boolean) {
  return async (ctx: Context, next: Next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    // Session and interaction URLs are credentials of a sort: never hand them on as a Referer.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(self), microphone=(), geolocation=()');
    if (https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
