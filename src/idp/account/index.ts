// The account page: the signed-in person's passkeys, listed and removable. Who is signed in is the
// IdP's own session (oidc-provider's session cookie), so this page works after any sign-in to any
// application; without a session it says how to get one. Removal is a CSRF-checked POST.
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { HttpError, readForm } from '../../http/body.ts';
import type { Accounts } from '../accounts.ts';
import { csrfToken, csrfValid } from '../interaction/csrf.ts';
import { describePasskey } from '../passkeys/passkeys.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import { renderPage } from '../views.ts';

type Deps = { provider: Provider; accounts: Accounts; passkeys: Passkeys; csrfSecret: string };

async function signedIn(ctx: Context, provider: Provider) {
  const session = await provider.Session.get(ctx as never);
  return session.accountId ? { accountId: session.accountId, sessionId: session.jti as string } : undefined;
}

export function accountRouter({ provider, accounts, passkeys, csrfSecret }: Deps): Router {
  const router = new Router({ prefix: '/account' });
  const token = (sessionId: string) => csrfToken(csrfSecret, `account:${sessionId}`);

  router.get('/', async (ctx) => {
    const who = await signedIn(ctx, provider);
    const account = who ? await accounts.findById(who.accountId) : undefined;
    if (!who || !account) {
      return renderPage(ctx, 'account', { title: 'Your account', account: null, passkeys: [], csrf: '', notice: null }, 401);
    }
    const notice = ctx.query.removed === '1' ? 'The passkey was removed.' : null;
    await renderPage(ctx, 'account', { title: 'Your account', account, passkeys: (await passkeys.list(account.id)).map(describePasskey), csrf: token(who.sessionId), notice });
  });

  router.post('/passkeys/delete', async (ctx) => {
    const form = await readForm(ctx);
    const who = await signedIn(ctx, provider);
    if (!who) throw new HttpError(401, 'Sign in first.');
    if (!csrfValid(csrfSecret, `account:${who.sessionId}`, form.get('csrf'))) throw new HttpError(403, 'This form has expired. Go back and try again.');
    const id = form.get('id') ?? '';
    if (!(await passkeys.remove(who.accountId, id))) throw new HttpError(404, 'There is no such passkey on your account.');
    ctx.status = 303;
    ctx.redirect('/account?removed=1');
  });
  return router;
}
