// The address confirmation pages. GET /email/verify shows what the link would confirm and a button;
// only POST /email/verify confirms (mail scanners and link previews fetch with GET). A dead or
// altered link gets a page that says so, with a "Send a new link" form (POST /email/resend).
import Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError, readForm } from '../../http/body.ts';
import type { Accounts } from '../accounts.ts';
import { csrfToken, csrfValid } from '../interaction/csrf.ts';
import { renderPage } from '../views.ts';
import type { CheckResult, EmailVerification } from './verification.ts';

type Deps = { accounts: Accounts; emails: EmailVerification; csrfSecret: string; countLookup: (ctx: Context) => Promise<void> };

const ACCOUNT_ID = /^[0-9a-f-]{36}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const TITLE = 'Confirm your email address';

function linkParams(get: (name: string) => unknown): { accountId: string; token: string } | undefined {
  const accountId = get('account');
  const token = get('token');
  return typeof accountId === 'string' && typeof token === 'string' && ACCOUNT_ID.test(accountId) && TOKEN.test(token) ? { accountId, token } : undefined;
}

export function emailRouter({ accounts, emails, csrfSecret, countLookup }: Deps): Router {
  const router = new Router({ prefix: '/email' });
  const resendCsrf = (accountId: string) => csrfToken(csrfSecret, `email-resend:${accountId}`);

  const page = (ctx: Context, status: number, data: { heading: string; message: string; form?: 'confirm' | 'resend'; accountId?: string; token?: string; email?: string }) =>
    renderPage(ctx, 'email-verify', { title: TITLE, form: null, accountId: '', token: '', email: '', csrf: data.accountId ? resendCsrf(data.accountId) : '', ...data }, status);

  /** The page for a link that cannot confirm (any more). */
  function refused(ctx: Context, result: Exclude<CheckResult, { ok: true }>, accountId: string) {
    if (result.reason === 'verified') return page(ctx, 200, { heading: 'Address confirmed', message: `${result.account.email} is already confirmed. There is nothing more to do.` });
    if (result.reason === 'invalid') {
      return page(ctx, 400, { heading: 'This link is not valid', message: 'The link is incomplete or was changed. Open it again from the mail, or ask for a new one.', form: 'resend', accountId });
    }
    return page(ctx, 410, { heading: 'This link no longer works', message: 'It has expired, was already used, or a newer link replaced it. Ask for a new one.', form: 'resend', accountId });
  }
  const malformed = (ctx: Context) => page(ctx, 400, { heading: 'This link is not valid', message: 'The link is incomplete or was changed. Open it again from the mail.' });

  router.get('/verify', async (ctx) => {
    const link = linkParams((n) => ctx.query[n]);
    if (!link) return malformed(ctx);
    const result = await emails.check(link.accountId, link.token);
    if (!result.ok) return refused(ctx, result, link.accountId);
    await page(ctx, 200, { heading: TITLE, message: `Press the button to confirm that ${result.account.email} is your address.`, form: 'confirm', ...link, email: result.account.email });
  });

  router.post('/verify', async (ctx) => {
    const form = await readForm(ctx);
    const link = linkParams((n) => form.get(n));
    if (!link) return malformed(ctx);
    const result = await emails.confirm(link.accountId, link.token);
    if (!result.ok) return refused(ctx, result, link.accountId);
    await page(ctx, 200, { heading: 'Address confirmed', message: `Thank you: ${result.account.email} is confirmed. Applications you sign in to from now on see it as verified.` });
  });

  router.post('/resend', async (ctx) => {
    const form = await readForm(ctx);
    const accountId = form.get('account') ?? '';
    if (!ACCOUNT_ID.test(accountId) || !csrfValid(csrfSecret, `email-resend:${accountId}`, form.get('csrf'))) throw new HttpError(403, 'This form has expired. Open the link from the mail again.');
    await countLookup(ctx);
    const account = await accounts.findById(accountId);
    if (!account) return page(ctx, 410, { heading: 'No account waits for this address', message: 'The account was removed or never finished. Sign up again from the application.' });
    const result = await emails.resend(account);
    if (result.sent === 'already-verified') return page(ctx, 200, { heading: 'Address confirmed', message: `${account.email} is already confirmed. There is nothing more to do.` });
    if (result.sent === 'limited') {
      ctx.set('Retry-After', String(result.retryAfterSeconds));
      return page(ctx, 429, { heading: 'Too many mails', message: 'We already sent several links to this address in the last hour. Use the newest one, or try again later.' });
    }
    await page(ctx, 200, { heading: 'A new link is on its way', message: `We sent a new link to ${account.email}. Earlier links no longer work.` });
  });
  return router;
}
