// One log line per request, by route pattern: the path of a hosted page carries its session token
// (a bearer credential), so it is never logged.
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../../logger.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function observe(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    ctx.res.once('finish', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      const status = ctx.res.statusCode;
      const route = (ctx._matchedRoute as string | undefined) ?? 'other';
      ctx.state.log[status >= 500 ? 'error' : 'info']({ method: ctx.method, route, status, ms }, 'verifier request');
    });
    await next();
  };
}

export function securityHeaders(https: boolean) {
  return async (ctx: Context, next: Next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    // The session URL is a credential: never hand it on as a Referer.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(self), microphone=(), geolocation=()');
    if (https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
