// The verification callback, read top to bottom.
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Config } from '../../../config.ts';
import type { Accounts } from '../../accounts.ts';
import type { Verification } from '../verification.ts';
import type { Store } from '../../../store/index.ts';
import type { Passkeys } from '../../passkeys/passkeys.ts';
import { actOnVerdict, awaitVerdict, checkInteraction, continueUnderInteraction, loadAttempt } from './steps.ts';

export function callbackRouter(deps: { provider: Provider; verification: Verification; accounts: Accounts; config: Config; csrfSecret: string; store: Store; passkeys: Passkeys }): Router {
  const { provider, verification, accounts, config, csrfSecret, store, passkeys } = deps;
  const router = new Router();
  // Where the verification service sends the browser (the `callback` of every session).
  router.get('/reauth/callback', loadAttempt(verification), continueUnderInteraction());
  // The same request, now where the browser's interaction cookie is sent.
  router.get(
    '/interaction/:uid/verified',
    loadAttempt(verification),
    checkInteraction(provider),
    awaitVerdict(verification, config),
    actOnVerdict(provider, verification, accounts, config, csrfSecret, { store, passkeys }),
  );
  return router;
}
