// Who may enter the console: an account with the operator role, signed in through this IdP (the
// console is its own OIDC client: code + PKCE, state, nonce) with the required acr
// (admin.requiredAcr), checked in the ID token. Others get a 403 page, and the refusal is logged
// and audited. GET /admin/login → the provider → GET /admin/callback → /admin.
import type { Context, Next } from 'koa';
import * as oidc from 'openid-client';
import { HttpError } from '../../http/body.ts';
import type { Store } from '../../store/index.ts';
import type { Accounts } from '../accounts.ts';
import { satisfies } from '../signin/acr.ts';
import { renderPage } from '../views.ts';
import { AuditLog, auditSubject } from '../audit.ts';
import { consoleRedirectUri } from './client.ts';
import type { ConsoleSession, ConsoleSessions } from './session.ts';

export type AuthDeps = { store: Store; accounts: Accounts; sessions: ConsoleSessions; client: oidc.Configuration; issuer: string; requiredAcr: string };

const LOGIN_COOKIE = 'selfie_admin_login';
const loginKey = (state: string) => `admin-login:${state}`;
type PendingLogin = { verifier: string; nonce: string };

export const consoleState = (ctx: Context) => ctx.state as { console: ConsoleSession; csrf: string; log: { info: Function; warn: Function } };

/** Starts a sign-in for the console: a fresh one (prompt=login) at the required acr. */
export function startLogin(deps: AuthDeps) {
  return async (ctx: Context) => {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    await deps.store.set(loginKey(state), { verifier, nonce } satisfies PendingLogin, { ttl: 600 });
    // Lax: the provider sends the browser back with a top-level redirect.
    ctx.cookies.set(LOGIN_COOKIE, state, { signed: true, httpOnly: true, sameSite: 'lax', path: '/admin/callback', maxAge: 600_000, overwrite: true });
    const url = oidc.buildAuthorizationUrl(deps.client, {
      redirect_uri: consoleRedirectUri(deps.issuer),
      scope: 'openid',
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      acr_values: deps.requiredAcr,
      prompt: 'login',
    });
    ctx.redirect(url.href);
  };
}

async function forbidden(ctx: Context, deps: AuthDeps, reason: string, accountId?: string) {
  consoleState(ctx).log.warn({ reason, ip: ctx.ip }, 'operator console: access refused');
  await new AuditLog(deps.store).append('operator.denied', { actor: accountId ? auditSubject(accountId) : 'anonymous', subject: accountId ? auditSubject(accountId) : null, details: { reason } });
  return renderPage(ctx, 'admin/forbidden', { title: 'No access', reason }, 403);
}

/** The provider's answer: tokens for the code, then the checks; a console session on success. */
export function finishLogin(deps: AuthDeps) {
  return async (ctx: Context) => {
    const state = ctx.cookies.get(LOGIN_COOKIE, { signed: true });
    ctx.cookies.set(LOGIN_COOKIE, null, { path: '/admin/callback' });
    const pending = state ? await deps.store.take<PendingLogin>(loginKey(state)) : undefined;
    if (!state || !pending) throw new HttpError(400, 'This sign-in to the console has expired or was not started here. Open /admin again.');
    if (typeof ctx.query.error === 'string') {
      return forbidden(ctx, deps, ctx.query.error === 'unmet_authentication_requirements' ? 'The console needs a stronger sign-in than this account can give (a passkey as well as the selfie: add one from your account page).' : 'The sign-in did not finish.');
    }
    // The URL the provider redirected to, on the public issuer (behind a proxy ctx.href differs).
    const current = new URL(`${consoleRedirectUri(deps.issuer)}${ctx.search}`);
    let claims;
    try {
      const tokens = await oidc.authorizationCodeGrant(deps.client, current, { pkceCodeVerifier: pending.verifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true });
      claims = tokens.claims()!;
    } catch (err) {
      consoleState(ctx).log.warn({ err: (err as Error).message }, 'operator console: code exchange failed');
      throw new HttpError(400, 'The sign-in to the console could not be completed. Open /admin again.');
    }
    const account = await deps.accounts.findById(claims.sub);
    if (!account?.operator) return forbidden(ctx, deps, 'This account is not an operator.', account?.id);
    if (!satisfies(claims.acr as string | undefined, deps.requiredAcr)) return forbidden(ctx, deps, `The console needs a sign-in of ${deps.requiredAcr}.`, account.id);
    await deps.sessions.open(ctx, account.id, String(claims.acr));
    await new AuditLog(deps.store).append('operator.signin', { actor: auditSubject(account.id), subject: auditSubject(account.id), details: { acr: String(claims.acr) } });
    ctx.redirect('/admin');
  };
}

/** Every console page: a live console session of an account that is still an operator. */
export function requireOperator(deps: AuthDeps) {
  return async (ctx: Context, next: Next) => {
    const session = await deps.sessions.current(ctx);
    if (!session) {
      if (ctx.method === 'GET') return ctx.redirect('/admin/login');
      throw new HttpError(401, 'Your console session has ended. Sign in again.');
    }
    const account = await deps.accounts.findById(session.accountId);
    if (!account?.operator) {
      await deps.sessions.close(ctx, session);
      return forbidden(ctx, deps, 'This account is not an operator.', session.accountId);
    }
    consoleState(ctx).console = session;
    consoleState(ctx).csrf = deps.sessions.csrf(session);
    await next();
  };
}

/** Every change: a POST whose form carries this session's CSRF token. */
export function requireCsrf(deps: AuthDeps) {
  return async (ctx: Context, next: Next) => {
    const form = ctx.state.form as URLSearchParams;
    if (!deps.sessions.csrfValid(consoleState(ctx).console, form.get('csrf'))) throw new HttpError(403, 'This form has expired. Go back, reload the page and try again.');
    await next();
  };
}

export function logout(deps: AuthDeps) {
  return async (ctx: Context) => {
    await deps.sessions.close(ctx, consoleState(ctx).console);
    await renderPage(ctx, 'admin/signed-out', { title: 'Signed out of the console' });
  };
}
