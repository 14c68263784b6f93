// The verifier's HTTP application: the v3 API for clients (x-api-key), the hosted capture page for
// users (the session token in the URL), and health checks. Its own Koa app on its own port; the
// IdP reaches it only over HTTP, as it would reach the real service.
import Koa from 'koa';
import type { Context, Next } from 'koa';
import Router from '@koa/router';
import { apiRouter } from './api/index.ts';
import type { VerifierDeps } from './deps.ts';
import { apiErrors, pageOutage } from './http/errors.ts';
import { readiness as storeReadiness } from '../http/outage.ts';
import { observe, securityHeaders } from './http/observe.ts';
import { pageRouter } from './page/index.ts';
import { DRAINING } from '../ops/readiness.ts';

function operations(deps: VerifierDeps): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (deps.readiness?.draining) {
      ctx.status = 503;
      ctx.body = DRAINING;
      return;
    }
    await storeReadiness(ctx, () => deps.store.ping());
  });
  return router;
}

/** API paths answer in the contract's error shapes; pages keep their own. */
function forApi(middleware: (ctx: Context, next: Next) => Promise<void>) {
  return (ctx: Context, next: Next) => (ctx.path.startsWith('/v3/') ? middleware(ctx, next) : next());
}

export function createVerifierApp(deps: VerifierDeps): Koa {
  // maxIpsCount: ctx.ip (IP analysis) is then the address the last trusted proxy saw, not the
  // left-most X-Forwarded-For entry the client may have written.
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: deps.config.trustProxyHops });
  app.silent = true;
  const api = apiRouter(deps);
  const pages = pageRouter(deps);
  const ops = operations(deps);

  app.use(observe(deps.log));
  app.use(securityHeaders(deps.config.publicUrl.startsWith('https:')));
  app.use(forApi(apiErrors()));
  app.use(pageOutage());
  app.use(api.routes());
  app.use(api.allowedMethods());
  app.use(pages.routes());
  app.use(ops.routes());
  return app;
}
