// The verification service's webhook receiver, read top to bottom.
import Router from '@koa/router';
import type { Store } from '../../store/index.ts';
import type { Attempts } from '../signin/attempts.ts';
import { loadAttempt, readBody, recordStatus, refuseReplay, verifySignature } from './steps.ts';

export function webhookRouter({ store, attempts, secret }: { store: Store; attempts: Attempts; secret: string }): Router {
  const router = new Router();
  router.post(
    '/webhooks/didit',
    readBody(),
    verifySignature(secret),
    refuseReplay(store),
    loadAttempt(attempts),
    recordStatus(attempts),
  );
  return router;
}
