// The operator console at /admin, read top to bottom: sign-in (the console is an OIDC client of
// this provider), then every page behind requireOperator, every change behind requireCsrf.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Config } from '../../config.ts';
import { readForm } from '../../http/body.ts';
import type { Store } from '../../store/index.ts';
import type { Accounts } from '../accounts.ts';
import { AuditLog } from '../audit.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import type { SigninHistory } from '../signin/history.ts';
import type { Verification } from '../signin/verification.ts';
import type { ForgetAtVerifier } from '../erasure.ts';
import { accountDetail, deleteAccount, resetEnrolment, searchAccounts, unlockThrottle } from './accounts.ts';
import { auditPage } from './audit.ts';
import { finishLogin, logout, requireCsrf, requireOperator, startLogin } from './auth.ts';
import { consoleClient } from './client.ts';
import { decide, reviewQueue } from './review.ts';
import { ConsoleSessions } from './session.ts';
import { blocklist, exportCsv, listSessionsPage, sessionDetail } from './sessions.ts';

export type ConsoleDeps = {
  config: Config;
  store: Store;
  accounts: Accounts;
  passkeys: Passkeys;
  verification: Verification;
  history: SigninHistory;
  forget: ForgetAtVerifier;
  cookieKey: string;
  internalUrl: () => string | undefined;
};

const form = async (ctx: Context, next: Next) => {
  ctx.state.form = await readForm(ctx);
  await next();
};

export function consoleRouter(deps: ConsoleDeps): Router {
  const { config, store, accounts, passkeys, verification } = deps;
  const audit = new AuditLog(store);
  const sessions = new ConsoleSessions(store, config.admin.idleMinutes, deps.cookieKey);
  const auth = { store, accounts, sessions, client: consoleClient(config.issuer, deps.cookieKey, deps.internalUrl), issuer: config.issuer, requiredAcr: config.admin.requiredAcr };
  const client = verification.client;
  const accountDeps = { config, store, accounts, passkeys, throttle: verification.throttle, devices: verification.risk.devices, history: deps.history, audit, forget: deps.forget };
  const operator = requireOperator(auth);
  const change = [operator, form, requireCsrf(auth)] as const;

  const router = new Router({ prefix: '/admin' });
  router.get('/login', startLogin(auth));
  router.get('/callback', finishLogin(auth));
  router.get('/', operator, (ctx) => ctx.redirect('/admin/review'));
  router.post('/logout', ...change, logout(auth));

  router.get('/review', operator, reviewQueue({ client, accounts, audit }));
  router.post('/review/:id', ...change, decide({ client, accounts, audit }));

  router.get('/sessions', operator, listSessionsPage({ client, accounts, audit }));
  router.get('/sessions.csv', operator, exportCsv({ client, accounts, audit }));
  router.get('/sessions/:id', operator, sessionDetail({ client, accounts, audit }));
  router.post('/sessions/:id/blocklist', ...change, blocklist({ client, accounts, audit }));

  router.get('/accounts', operator, searchAccounts(accountDeps));
  router.get('/accounts/:id', operator, accountDetail(accountDeps));
  router.post('/accounts/:id/unlock', ...change, unlockThrottle(accountDeps));
  router.post('/accounts/:id/reset-enrolment', ...change, resetEnrolment(accountDeps));
  router.post('/accounts/:id/delete', ...change, deleteAccount(accountDeps));

  router.get('/audit', operator, auditPage({ audit, accounts }));
  return router;
}
