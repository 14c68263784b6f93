// The HTTP application: operations endpoints, our login app, then oidc-provider for the rest.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Config } from '../config.ts';
import { REPO_ROOT } from '../config.ts';
import type { Logger } from '../logger.ts';
import { observeRequests, securityHeaders } from '../http/observe.ts';
import { CookieKeys } from '../http/cookie-keys.ts';
import type { Metrics } from '../ops/metrics.ts';
import { routeLabel } from '../ops/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Accounts } from './accounts.ts';
import { interactionRouter } from './interaction/index.ts';
import { lookupLimiter } from './interaction/context.ts';
import { callbackRouter } from './signin/callback/index.ts';
import type { Verification } from './signin/verification.ts';
import { webhookRouter } from './webhook/index.ts';
import { renderPage } from './views.ts';
import { OUTAGE_MESSAGE, OUTAGE_RETRY_AFTER_SECONDS, isStoreUnavailable, readiness as storeReadiness } from '../http/outage.ts';
import type { Passkeys } from './passkeys/passkeys.ts';
import { accountRouter } from './account/index.ts';
import type { EmailVerification } from './email/verification.ts';
import { emailRouter } from './email/routes.ts';
import { createRequire } from 'node:module';
import { consoleRouter } from './admin/index.ts';
import type { SigninHistory } from './signin/history.ts';
import type { ForgetAtVerifier } from './erasure.ts';
import { DRAINING } from '../ops/readiness.ts';
import type { Readiness } from '../ops/readiness.ts';

export type AppDeps = {
  config: Config;
  store: Store;
  provider: Provider;
  log: Logger;
  metrics: Metrics;
  cookieKeys: string[];
  accounts: Accounts;
  verification: Verification;
  passkeys: Passkeys;
  emails: EmailVerification;
  /** Last sign-ins per account (signin/history.ts). */
  history: SigninHistory;
  /** The service's half of erasure and enrolment reset (erasure.ts). */
  forget: ForgetAtVerifier;
  /** Where this instance listens, once it does: the console's requests to its own provider go there. */
  internalUrl: () => string | undefined;
  /** Turned off first on shutdown: /readyz then says 503 so a balancer drains this instance. */
  readiness: Readiness;
};

/**
 * @simplewebauthn/browser's UMD bundle (window.SimpleWebAuthnBrowser), served by us from
 * node_modules: the pages' CSP allows scripts from this origin only, no CDN.
 */
const WEBAUTHN_BROWSER_BUNDLE = path.join(path.dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');

/** Request id, one JSON log line and one histogram sample per request, whoever answered it. */
function observe(log: Logger, metrics: Metrics) {
  const routeOf = (ctx: Context) => routeLabel(ctx._matchedRoute as string | undefined, ctx.path);
  const track = observeRequests(log, {
    message: 'request',
    // The path only: query strings carry login hints, states and codes.
    fields: ({ ctx }) => ({ path: ctx.path, route: routeOf(ctx) }),
    onFinish: ({ ctx, status, seconds }) => metrics.httpDuration.observe({ method: ctx.method, route: routeOf(ctx), status: String(status) }, seconds),
  });
  return (ctx: Context, next: Next) =>
    track(ctx, async () => {
      // Handed to oidc-provider too (its renderError shows it as a reference).
      ctx.req.headers['x-request-id'] = ctx.state.requestId;
      await next();
    });
}

/** Our errors become a JSON body or a readable page; nothing leaks a stack trace. */
function errorPages() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const outage = isStoreUnavailable(err);
      const e = err as { status?: number; statusCode?: number; expose?: boolean; message?: string };
      const status = outage ? 503 : (e.status ?? e.statusCode ?? 500);
      const message = outage ? OUTAGE_MESSAGE : status < 500 && e.expose !== false ? (e.message ?? 'Bad request') : 'Something went wrong on our side.';
      if (outage) {
        ctx.state.log?.warn({ err: (err as Error).message }, 'store unavailable: 503');
        ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
      } else if (status >= 500) ctx.state.log?.error({ err }, 'unhandled error');
      // The webhook receiver is called by a server, never a browser: JSON whatever it accepts.
      if (!ctx.path.startsWith('/webhooks/') && ctx.accepts(['html', 'json']) === 'html') {
        await renderPage(ctx, 'error', { message, code: outage ? 'temporarily_unavailable' : '', requestId: ctx.state.requestId }, status);
      } else {
        ctx.status = status;
        ctx.body = { error: outage ? 'temporarily_unavailable' : status >= 500 ? 'server_error' : 'invalid_request', error_description: message };
      }
    }
  };
}

const ASSET_TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };

function operationsRouter({ store, metrics, readiness }: AppDeps): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    if (readiness.draining) {
      ctx.status = 503;
      ctx.body = DRAINING;
      return;
    }
    await storeReadiness(ctx, () => store.ping(), () => metrics.storeErrors.inc({ operation: 'ping' }));
  });
  // No /metrics here: it has its own private listener (src/ops/metrics-server.ts).
  router.get('/assets/vendor/simplewebauthn-browser.js', async (ctx) => {
    ctx.body = await readFile(WEBAUTHN_BROWSER_BUNDLE);
    ctx.type = ASSET_TYPES['.js']!;
    ctx.set('Cache-Control', 'public, max-age=3600');
  });
  router.get('/assets/:file', async (ctx) => {
    const name = path.basename(ctx.params.file ?? '');
    const type = ASSET_TYPES[path.extname(name)];
    if (!type || name !== ctx.params.file) return;
    try {
      ctx.body = await readFile(path.join(REPO_ROOT, 'assets', name));
      ctx.type = type;
      ctx.set('Cache-Control', 'public, max-age=3600');
    } catch {
      // fall through to 404
    }
  });
  return router;
}

export function createApp(deps: AppDeps): Koa {
  // maxIpsCount: without it Koa's ctx.ip is the left-most X-Forwarded-For entry, which the client
  // writes itself (it would choose its own rate-limit bucket and from_ip).
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: deps.config.trustProxyHops, keys: new CookieKeys(deps.cookieKeys) as unknown as string[] });
  app.silent = true;
  const { provider, store, config, accounts, verification, passkeys, emails } = deps;
  const csrfSecret = deps.cookieKeys[0]!;
  const ops = operationsRouter(deps);
  const countLookup = lookupLimiter(store, config);
  const interactions = interactionRouter({ provider, store, config, csrfSecret, accounts, verification, passkeys, emails, countLookup });
  const email = emailRouter({ emails, csrfSecret, countLookup });
  const account = accountRouter({ provider, accounts, passkeys, emails, csrfSecret, config, store, history: deps.history, forget: deps.forget, devices: verification.risk.devices });
  const admin = consoleRouter({ config, store, accounts, passkeys, verification, history: deps.history, forget: deps.forget, cookieKey: csrfSecret, internalUrl: deps.internalUrl });
  const webhooks = webhookRouter({ store, attempts: verification.attempts, secret: verification.settings.webhookSecret, verification, accounts });
  const callback = callbackRouter({ provider, verification, accounts, config, csrfSecret, store, passkeys });
  const handleOidc = provider.callback();

  app.use(observe(deps.log, deps.metrics));
  app.use(securityHeaders(deps.config.issuer.startsWith('https:')));
  app.use(errorPages());
  app.use(async (ctx, next) => {
    // Where a finished sign-in is recorded (signin/history.ts noteSignin).
    ctx.state.signinHistory = deps.history;
    await next();
  });
  app.use(ops.routes());
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  app.use(webhooks.routes());
  app.use(callback.routes());
  app.use(account.routes());
  app.use(email.routes());
  app.use(admin.routes());
  app.use(async (ctx) => {
    if (ctx.body !== undefined || ctx.status !== 404) return;
    // Everything else is the OAuth core's: hand over the raw request untouched.
    ctx.respond = false;
    await handleOidc(ctx.req, ctx.res);
  });
  return app;
}
