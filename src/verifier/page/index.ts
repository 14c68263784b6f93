// The hosted capture page: the page itself, its liveness challenge, its upload, the hand-off status poll, its assets.
import Router from '@koa/router';
import type { VerifierDeps } from '../deps.ts';
import { handleCapture } from '../capture/index.ts';
import { apiErrors } from '../http/errors.ts';
import { serveAsset } from './assets.ts';
import { issueChallenge } from './challenge.ts';
import { showSessionPage } from './show.ts';
import { sessionStatus } from './status.ts';

export function pageRouter(deps: VerifierDeps): Router {
  const router = new Router();
  router.get('/session/:token', showSessionPage(deps));
  router.post('/session/:token/challenge', apiErrors(), issueChallenge(deps));
  router.post('/session/:token/capture', apiErrors(), handleCapture(deps));
  router.get('/session/:token/status', sessionStatus(deps));
  router.get('/assets/:file', serveAsset(''));
  router.get('/assets/verifier/:file', serveAsset('verifier/'));
  router.get('/assets/verifier/capture/:version/:file', serveAsset('verifier/capture/'));
  return router;
}
