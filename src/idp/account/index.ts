// The account page (/account): the signed-in person's email, devices, passkeys (removable), recent
// sign-ins; download their data; re-enrol their face; delete their account. Who is signed in is
// the IdP's own session (oidc-provider's session cookie), so this page works after any sign-in to
// any application; without a session it says how to get one. Every change is a CSRF-checked POST.
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../config.ts';
import { HttpError, readForm } from '../../http/body.ts';
import type { Store } from '../../store/index.ts';
import type { Account, Accounts } from '../accounts.ts';
import { AuditLog, auditSubject } from '../audit.ts';
import { csrfToken, csrfValid } from '../interaction/csrf.ts';
import { describePasskey } from '../passkeys/passkeys.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import type { SigninHistory } from '../signin/history.ts';
import { deviceFingerprint } from '../signin/history.ts';
import type { DeviceHistory } from '../signin/risk.ts';
import type { EmailVerification } from '../email/verification.ts';
import { eraseAccount } from '../erasure.ts';
import type { ForgetAtVerifier } from '../erasure.ts';
import { renderPage } from '../views.ts';
import { giveGrant } from '../signin/reenrolment.ts';
import { accountData } from './data.ts';

type Deps = { provider: Provider; accounts: Accounts; passkeys: Passkeys; emails: EmailVerification; csrfSecret: string; config: Config; store: Store; history: SigninHistory; forget: ForgetAtVerifier; devices: DeviceHistory };

/**
 * Re-enrolment, deleting the account and removing a passkey need a sign-in this recent (a fresh
 * selfie that matched, or a passkey): a browser left signed in must not be enough to undo the account.
 */
const FRESH_SECONDS = 5 * 60;
/** And the new enrolment must follow within this long. */
const REENROL_WINDOW_MS = 15 * 60 * 1000;
/** An operator's link: the grant itself expires with the operator's window (accounts.ts checks it). */
const CLAIM_COOKIE_MS = 24 * 3600 * 1000;

async function signedIn(ctx: Context, provider: Provider) {
  const session = await provider.Session.get(ctx as never);
  return session.accountId ? { accountId: session.accountId, sessionId: session.jti as string, authTime: session.authTime() as number | undefined, amr: (session.amr as unknown as string[] | undefined) ?? [] } : undefined;
}

const NOTICES: Record<string, string> = { removed: 'The passkey was removed.' };

export function accountRouter(deps: Deps): Router {
  const { provider, accounts, passkeys, csrfSecret } = deps;
  const router = new Router({ prefix: '/account' });
  const token = (sessionId: string) => csrfToken(csrfSecret, `account:${sessionId}`);

  /** The signed-in account, or a 401 page / error. */
  async function who(ctx: Context): Promise<{ account: Account; sessionId: string; authTime?: number; amr: string[] } | undefined> {
    const w = await signedIn(ctx, provider);
    const account = w ? await accounts.findById(w.accountId) : undefined;
    return w && account ? { account, sessionId: w.sessionId, authTime: w.authTime, amr: w.amr } : undefined;
  }

  /** The page for a change asked of a session whose sign-in is too old (403). */
  const signInAgain = (ctx: Context, what: string) =>
    renderPage(ctx, 'account-done', { title: 'Sign in again first', message: `To ${what}, sign in again (a selfie that matches, or your passkey), then come back here within five minutes.` }, 403);
  const isFresh = (authTime: number | undefined) => authTime !== undefined && Date.now() / 1000 - authTime <= FRESH_SECONDS;

  /** A POST from this page: signed in, CSRF token valid. */
  async function change(ctx: Context) {
    const form = await readForm(ctx);
    const w = await who(ctx);
    if (!w) throw new HttpError(401, 'Sign in first.');
    if (!csrfValid(csrfSecret, `account:${w.sessionId}`, form.get('csrf'))) throw new HttpError(403, 'This form has expired. Go back and try again.');
    return { ...w, form };
  }

  router.get('/', async (ctx) => {
    const w = await who(ctx);
    if (!w) return renderPage(ctx, 'account', { title: 'Your account', account: null, passkeys: [], csrf: '', notice: null }, 401);
    const { account } = w;
    const [keys, devices, signins] = await Promise.all([passkeys.list(account.id), deps.devices.all(account.id), deps.history.list(account.id)]);
    await renderPage(ctx, 'account', {
      title: 'Your account',
      account,
      passkeys: keys.map(describePasskey),
      devices: Object.entries(devices).map(([id, d]) => ({ id: deviceFingerprint(id), ...d })),
      signins: signins.slice(0, 10),
      csrf: token(w.sessionId),
      notice: NOTICES[String(ctx.query.done ?? (ctx.query.removed === '1' ? 'removed' : ''))] ?? null,
    });
  });

  router.post('/passkeys/delete', async (ctx) => {
    const { account, form, authTime } = await change(ctx);
    if (!isFresh(authTime)) return signInAgain(ctx, 'remove a passkey');
    const id = form.get('id') ?? '';
    if (!(await passkeys.remove(account.id, id))) throw new HttpError(404, 'There is no such passkey on your account.');
    ctx.status = 303;
    ctx.redirect('/account?removed=1');
  });

  /**
   * The address confirmation link again, for a sign-up account not confirmed yet: the signed-in
   * owner is the one who may ask (the confirm page offers it only to the holder of a dead link).
   */
  router.post('/email/resend', async (ctx) => {
    const { account } = await change(ctx);
    const result = await deps.emails.resend(account);
    if (result.sent === 'not-needed') return renderPage(ctx, 'account-done', { title: 'Nothing to confirm', message: 'Your address needs no confirmation.' }, 400);
    if (result.sent === 'limited') {
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      return renderPage(ctx, 'account-done', { title: 'Too many mails', message: 'We already sent several links to your address in the last hour. Use the newest one, or try again later.' }, 429);
    }
    await renderPage(ctx, 'account-done', { title: 'A new link is on its way', message: `We sent a new confirmation link to ${account.email}. Earlier links no longer work.` });
  });

  router.get('/data', async (ctx) => {
    const w = await who(ctx);
    if (!w) throw new HttpError(401, 'Sign in first.');
    const [keys, devices, signins] = await Promise.all([passkeys.list(w.account.id), deps.devices.all(w.account.id), deps.history.list(w.account.id)]);
    await new AuditLog(deps.store).append('account.data_exported', { actor: 'user', subject: auditSubject(w.account.id) });
    ctx.set('Content-Disposition', 'attachment; filename="my-selfie-idp-data.json"');
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = JSON.stringify(accountData(w.account, { passkeys: keys, devices, signins }), null, 2);
  });

  /**
   * Re-enrol the face: only right after a sign-in (a selfie that matched, or a passkey) of at most
   * five minutes ago. The current face is forgotten, and this browser (only) receives the grant
   * for the new enrolment (src/idp/signin/reenrolment.ts): a sign-up of this email from it within
   * 15 minutes becomes the account's face. A sign-up of the email from anywhere else is refused.
   */
  router.post('/re-enrol', async (ctx) => {
    const { account, authTime } = await change(ctx);
    if (!isFresh(authTime)) return signInAgain(ctx, 'change your face');
    await deps.forget(account.id);
    const reset = await accounts.resetEnrolment(account.id, 'user', { grantForMs: REENROL_WINDOW_MS });
    if (!reset?.grant) throw new HttpError(404, 'This account no longer exists.');
    giveGrant(ctx, deps.config.issuer, reset.grant, REENROL_WINDOW_MS);
    await renderPage(ctx, 'account-done', { title: 'Enrol your face again', message: 'Your old face is removed. Within 15 minutes, in this same browser, open any application, choose "Create an account" and sign up with this same email: the new selfie becomes your face.' });
  });

  /**
   * The one-time link an operator gives to the person they verified (src/idp/admin/accounts.ts).
   * GET only shows a button (a link preview or a mail scanner changes nothing); the same-origin
   * POST puts the grant in this browser. Same origin only: another site must not be able to
   * replace a grant this browser holds with one of its choosing (a re-probe did that with a
   * cross-site link, and the rightful person's re-enrolment was lost). Nothing is used up here:
   * the grant is redeemed by the sign-up.
   */
  const grantOf = (value: unknown): string => {
    const grant = typeof value === 'string' ? value : '';
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(grant)) throw new HttpError(400, 'This re-enrolment link is incomplete. Open the whole link you were given.');
    return grant;
  };
  router.get('/re-enrol/claim', async (ctx) => {
    const grant = grantOf(ctx.query.grant);
    ctx.set('Cache-Control', 'no-store');
    await renderPage(ctx, 'account-reenrol-claim', { title: 'Enrol your face again', grant });
  });

  router.post('/re-enrol/claim', async (ctx) => {
    // Browsers send Origin with every form POST; a cross-site form carries the other site's.
    if (ctx.get('origin') !== new URL(deps.config.issuer).origin) throw new HttpError(403, 'Open the link you were given, then press the button on that page.');
    const grant = grantOf((await readForm(ctx)).get('grant'));
    giveGrant(ctx, deps.config.issuer, grant, CLAIM_COOKIE_MS);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect('/account/re-enrol/ready');
  });

  router.get('/re-enrol/ready', async (ctx) => {
    await renderPage(ctx, 'account-done', { title: 'Enrol your face again', message: 'This browser may now enrol your new face. In this same browser, open the application, choose "Create an account" and sign up with the email of your account, before the link expires. It works once.' });
  });

  router.get('/delete', async (ctx) => {
    const w = await who(ctx);
    if (!w) throw new HttpError(401, 'Sign in first.');
    await renderPage(ctx, 'account-delete', { title: 'Delete your account', account: w.account, csrf: token(w.sessionId) });
  });

  router.post('/delete', async (ctx) => {
    const { account, form, authTime } = await change(ctx);
    if (!isFresh(authTime)) return signInAgain(ctx, 'delete your account');
    if (form.get('confirm') !== 'yes') throw new HttpError(400, 'Tick the box to confirm that you want your account deleted.');
    await eraseAccount(deps.config, deps.store, account, deps.forget, 'user');
    await renderPage(ctx, 'account-done', { title: 'Your account is deleted', message: 'Your account, your face, your passkeys and your sign-in history are erased. You are signed out everywhere.' });
  });
  return router;
}
