// The Didit Sessions API v3, verifier side. Every route: API key, rate limit (by class), handler.
import Router from '@koa/router';
import type { VerifierDeps } from '../deps.ts';
import type { RateLimitClass } from '../config.ts';
import { requireApiKey } from '../http/auth.ts';
import { rateLimit } from '../http/rate-limit.ts';
import { addToBlocklist, listBlocklistEntries, removeFromBlocklist } from './blocklist.ts';
import { createSession } from './create/index.ts';
import { deleteSession } from './delete-session.ts';
import { getDecision } from './get-decision.ts';
import { getMedia } from './get-media.ts';
import { listSessions } from './list-sessions.ts';
import { updateStatus } from './update-status.ts';

export function apiRouter(deps: VerifierDeps): Router {
  const router = new Router();
  const key = requireApiKey(deps.apiKeyHashes);
  const limit = (cls: RateLimitClass) => rateLimit(deps.store, cls, deps.config.rateLimits, deps.config.rateLimitWindowMs);

  router.post('/v3/session/', key, limit('create'), createSession(deps));
  router.get('/v3/session/:id/decision/', key, limit('read'), getDecision(deps));
  router.patch('/v3/session/:id/update-status/', key, limit('write'), updateStatus(deps));
  router.delete('/v3/session/:id/delete/', key, limit('write'), deleteSession(deps));
  router.get('/v3/sessions/', key, limit('read'), listSessions(deps));
  router.get('/v3/session/:id/media/:name', key, limit('read'), getMedia(deps));
  router.post('/v3/blocklist/add/', key, limit('write'), addToBlocklist(deps));
  router.post('/v3/blocklist/remove/', key, limit('write'), removeFromBlocklist(deps));
  router.get('/v3/blocklist/', key, limit('read'), listBlocklistEntries(deps));
  return router;
}
