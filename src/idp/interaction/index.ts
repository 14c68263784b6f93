// The login and consent app: a few short routes in front of the OAuth core. Read top to bottom.
import Router from '@koa/router';
import type { InteractionDeps } from './context.ts';
import { showPrompt, submitLogin } from './login.ts';
import { showSignup, submitSignup } from './signup.ts';
import { retryVerification } from './retry.ts';
import { confirmConsent } from './consent.ts';
import { abortInteraction } from './abort.ts';

export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  router.get('/', showPrompt(deps));
  router.post('/login', submitLogin(deps));
  router.get('/signup', showSignup(deps));
  router.post('/signup', submitSignup(deps));
  router.post('/retry', retryVerification(deps));
  router.post('/confirm', confirmConsent(deps));
  router.post('/abort', abortInteraction(deps));
  return router;
}
