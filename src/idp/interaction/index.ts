// The login and consent app: a few short routes in front of the OAuth core. Read top to bottom.
import Router from '@koa/router';
import type { InteractionDeps } from './context.ts';
import { showPrompt, submitLogin } from './login.ts';
import { showSignup, submitSignup } from './signup.ts';
import { retryVerification } from './retry.ts';
import { confirmConsent } from './consent.ts';
import { abortInteraction } from './abort.ts';
import { authenticatePasskey, authenticationOptions, finish, registerPasskey, registrationOptions } from './passkey.ts';

export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  router.get('/', showPrompt(deps));
  router.post('/login', submitLogin(deps));
  router.get('/signup', showSignup(deps));
  router.post('/signup', submitSignup(deps));
  router.post('/retry', retryVerification(deps));
  // Passkeys: the assertion that starts an mfa sign-in, the offer after a face sign-in, its finish.
  router.post('/passkey/auth/options', authenticationOptions(deps));
  router.post('/passkey/auth', authenticatePasskey(deps));
  router.post('/passkey/register/options', registrationOptions(deps));
  router.post('/passkey/register', registerPasskey(deps));
  router.get('/finish', finish(deps));
  router.post('/finish', finish(deps));
  router.post('/confirm', confirmConsent(deps));
  router.post('/abort', abortInteraction(deps));
  return router;
}
