// Accounts made by sign-up whose address is not confirmed by their deadline are erased with
// everything about them (src/idp/erasure.ts, the path of `users delete`). Choice: a periodic sweep
// on every instance, at most one at a time across instances (a lock in the store held for one
// period), over the index of unconfirmed accounts only. Not lazily on lookup: an account nobody
// signs in to would then never be removed, and its face would stay at the verification service.
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import type { Store } from '../../store/index.ts';
import type { Accounts } from '../accounts.ts';
import { eraseAccount } from '../erasure.ts';
import type { ForgetAtVerifier } from '../erasure.ts';

/** Held for one period by the instance that sweeps. */
export const EXPIRY_SWEEP_LOCK = 'email-verification:expiry-sweep';

export type ExpirySweep = {
  /** One sweep if no other instance swept this period; the number of accounts erased. */
  runOnce(): Promise<number>;
  stop(): void;
};

export function unverifiedExpiry(deps: { config: Config; store: Store; accounts: Accounts; forget: ForgetAtVerifier; log: Logger; now?: () => number }): ExpirySweep {
  const { config, store, accounts, forget, log } = deps;
  const now = deps.now ?? Date.now;
  const periodSeconds = config.signup.expirySweepMinutes * 60;
  const instance = randomUUID();
  let running: Promise<number> | undefined;

  async function sweep(): Promise<number> {
    if (!(await store.setIfAbsent(EXPIRY_SWEEP_LOCK, instance, { ttl: periodSeconds }))) return 0;
    let erased = 0;
    for (const id of await accounts.unverifiedIds()) {
      const account = await accounts.findById(id, { includeErasing: true });
      if (!account || account.emailVerified || account.unverifiedUntil == null) {
        // Confirmed or gone meanwhile: nothing to do but tidy the index.
        if (!account) await accounts.dropUnverified(id);
        continue;
      }
      if (account.unverifiedUntil > now() && !account.erasing) continue;
      try {
        await eraseAccount(config, store, account, forget, 'expiry');
        erased++;
        log.info({ accountId: account.id }, 'address never confirmed: account erased');
      } catch (err) {
        // The next period tries again (erasure finishes an interrupted one).
        log.error({ accountId: account.id, err: (err as Error).message }, 'could not erase an unconfirmed account');
      }
    }
    return erased;
  }

  const runOnce = () => (running ??= sweep().finally(() => (running = undefined)));
  let timer: NodeJS.Timeout | undefined = undefined;
  const tick = () => void runOnce().catch((err: unknown) => log.error({ err: (err as Error).message }, 'expiry sweep failed'));
  // Soon after start too (an instance restarted more often than the period would never sweep).
  const first = setTimeout(tick, Math.min(30_000, periodSeconds * 1000)).unref();
  timer = setInterval(tick, periodSeconds * 1000).unref();
  return {
    runOnce,
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
