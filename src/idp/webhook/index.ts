// The verification service's webhook receiver, read top to bottom.
import Router from '@koa/router';
import type { Store } from '../../store/index.ts';
import type { Attempts } from '../signin/attempts.ts';
import { completeApprovedEnrolment, loadAttempt, readBody, recordStatus, refuseReplay, verifySignature } from './steps.ts';
import type { Accounts } from '../accounts.ts';
import type { Verification } from '../signin/verification.ts';

export function webhookRouter({ store, attempts, secret, verification, accounts }: { store: Store; attempts: Attempts; secret: string; verification: Verification; accounts: Accounts }): Router {
  const router = new Router();
  router.post(
    '/webhooks/didit',
    readBody(),
    verifySignature(secret),
    refuseReplay(store),
    loadAttempt(attempts),
    recordStatus(attempts),
    completeApprovedEnrolment(verification, accounts),
  );
  return router;
}
