// The verification callback, read top to bottom.
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Config } from '../../../config.ts';
import type { Accounts } from '../../accounts.ts';
import type { Verification } from '../verification.ts';
import { actOnVerdict, awaitVerdict, checkInteraction, loadAttempt } from './steps.ts';

export function callbackRouter(deps: { provider: Provider; verification: Verification; accounts: Accounts; config: Config; csrfSecret: string }): Router {
  const { provider, verification, accounts, config, csrfSecret } = deps;
  const router = new Router();
  router.get(
    '/reauth/callback',
    loadAttempt(verification),
    checkInteraction(provider),
    awaitVerdict(verification, config),
    actOnVerdict(provider, verification, accounts, config, csrfSecret),
  );
  return router;
}
