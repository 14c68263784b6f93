// The login and consent app: a few short routes in front of the OAuth core. Read top to bottom.
import Router from '@koa/router';
import type { InteractionDeps } from './context.ts';
import { showPrompt } from './login.ts';
import { confirmConsent } from './consent.ts';
import { abortInteraction } from './abort.ts';

export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  router.get('/', showPrompt(deps));
  router.post('/confirm', confirmConsent(deps));
  router.post('/abort', abortInteraction(deps));
  return router;
}
