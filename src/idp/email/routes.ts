// The address confirmation pages. GET /email/verify shows what the link would confirm and a button;
// only POST /email/verify confirms (mail scanners and link previews fetch with GET). A dead or
// altered link gets one page that names no address and says nothing of the account; only the holder
// of a link the account really had (replaced, or expired) gets a "Send a new link" form (POST
// /email/resend). Everyone else asks for a new link on the signed-in account page.
import Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError, readForm } from '../../http/body.ts';
import { csrfToken, csrfValid } from '../interaction/csrf.ts';
import { renderPage } from '../views.ts';
import type { CheckResult, EmailVerification } from './verification.ts';

type Deps = { emails: EmailVerification; csrfSecret: string; countLookup: (ctx: Context) => Promise<void> };

const ACCOUNT_ID = /^[0-9a-f-]{36}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const TITLE = 'Confirm your email address';

function linkParams(get: (name: string) => unknown): { accountId: string; token: string } | undefined {
  const accountId = get('account');
  const token = get('token');
  return typeof accountId === 'string' && typeof token === 'string' && ACCOUNT_ID.test(accountId) && TOKEN.test(token) ? { accountId, token } : undefined;
}

export function emailRouter({ emails, csrfSecret, countLookup }: Deps): Router {
  const router = new Router({ prefix: '/email' });
  // Bound to the dead link itself: only its holder can post the form.
  const resendCsrf = (accountId: string, token: string) => csrfToken(csrfSecret, `email-resend:${accountId}:${token}`);

  const page = (ctx: Context, status: number, data: { heading: string; message: string; form?: 'confirm' | 'resend'; accountId?: string; token?: string; email?: string }) =>
    renderPage(ctx, 'email-verify', { title: TITLE, form: null, accountId: '', token: '', email: '', csrf: data.form === 'resend' ? resendCsrf(data.accountId!, data.token!) : '', ...data }, status);

  /**
   * One page for every link that cannot confirm and was not this account's: made up, altered, used,
   * for a confirmed account or one that does not exist. It names no address and looks the same in
   * every case (the account id is every application's `sub`, so it is no secret).
   */
  const unusable = (ctx: Context) =>
    page(ctx, 400, { heading: 'This link does not work', message: 'It is incomplete, was changed, was already used, or is no longer needed. If your address is not confirmed yet, sign in and ask for a new link on your account page (/account).' });

  /** The page for a link that cannot confirm (any more). */
  function refused(ctx: Context, result: Exclude<CheckResult, { ok: true }>, link: { accountId: string; token: string }) {
    if (result.reason === 'dead') return page(ctx, 410, { heading: 'This link no longer works', message: 'It has expired or a newer link replaced it. Ask for a new one.', form: 'resend', ...link });
    return unusable(ctx);
  }

  router.get('/verify', async (ctx) => {
    const link = linkParams((n) => ctx.query[n]);
    if (!link) return unusable(ctx);
    const result = await emails.check(link.accountId, link.token);
    if (!result.ok) return refused(ctx, result, link);
    await page(ctx, 200, { heading: TITLE, message: `Press the button to confirm that ${result.account.email} is your address.`, form: 'confirm', ...link, email: result.account.email });
  });

  router.post('/verify', async (ctx) => {
    const form = await readForm(ctx);
    const link = linkParams((n) => form.get(n));
    if (!link) return unusable(ctx);
    const result = await emails.confirm(link.accountId, link.token);
    if (!result.ok) return refused(ctx, result, link);
    await page(ctx, 200, { heading: 'Address confirmed', message: `Thank you: ${result.account.email} is confirmed. Applications you sign in to from now on see it as verified.` });
  });

  /**
   * A new link, only for the holder of a dead link this account really had (its hash is still in
   * the record). Anyone else, whatever the account, gets the same page as an unusable link.
   */
  router.post('/resend', async (ctx) => {
    const form = await readForm(ctx);
    const link = linkParams((n) => form.get(n));
    await countLookup(ctx);
    if (!link || !csrfValid(csrfSecret, `email-resend:${link.accountId}:${link.token}`, form.get('csrf'))) return unusable(ctx);
    const checked = await emails.check(link.accountId, link.token);
    if (checked.ok || checked.reason !== 'dead') return unusable(ctx);
    const result = await emails.resend(checked.account);
    if (result.sent === 'not-needed') return unusable(ctx);
    if (result.sent === 'limited') {
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      return page(ctx, 429, { heading: 'Too many mails', message: 'We already sent several links to this address in the last hour. Use the newest one, or try again later.' });
    }
    await page(ctx, 200, { heading: 'A new link is on its way', message: `We sent a new link to ${checked.account.email}. Earlier links no longer work.` });
  });
  return router;
}
