// Erasure of an account and everything about it: `users delete` and the expiry of accounts whose
// address was never confirmed (src/idp/email/expiry.ts) run this one path. First nothing finds the
// account (no new sign-in can start), then the verification service forgets it, then the IdP's own
// traces go, then the account. Running it again finishes an interrupted one.
import type { Config } from '../config.ts';
import { DiditClient } from '../didit/index.ts';
import type { Store } from '../store/index.ts';
import type { Account } from './accounts.ts';
import { Accounts } from './accounts.ts';
import { forgetAccountRecords } from './adapter.ts';
import { forgetEmailVerification } from './email/verification.ts';
import { Passkeys } from './passkeys/passkeys.ts';
import { Attempts } from './signin/attempts.ts';
import { PortraitVault } from './signin/portraits.ts';
import { DeviceHistory } from './signin/risk.ts';
import { FaceThrottle } from './signin/throttle.ts';

export type Forgotten = { template: boolean; sessions: number };

/** What the verification service holds about an account (its vendor_data), removed. */
export type VerifierForget = (accountId: string) => Promise<Forgotten>;

/**
 * A service over the network (the real Didit): its sessions are deleted through the v3 API
 * (listed by vendor_data); it keeps no template, the reference portrait is ours and goes too.
 */
export function contractForget(config: Config, store: Store): VerifierForget {
  if (config.verification.mode !== 'remote') throw new Error('contractForget: only for a verification service over the network');
  const { baseUrl, apiKey, portraitKey } = config.verification;
  const client = new DiditClient({ baseUrl, apiKey });
  return async (accountId) => {
    let page = await client.listSessions({ vendor_data: accountId, limit: 100 });
    const all = [...page.results];
    while (page.next) {
      page = await client.listSessions({ vendor_data: accountId, limit: 100, offset: all.length });
      all.push(...page.results);
    }
    for (const s of all) await client.deleteSession(s.session_id);
    if (portraitKey) await new PortraitVault(store, portraitKey).delete(accountId);
    return { template: true, sessions: all.length };
  };
}

export async function eraseAccount(config: Config, store: Store, forgetAtVerifier: VerifierForget, account: Account): Promise<Forgotten> {
  const accounts = new Accounts(store);
  await accounts.markErasing(account.id);
  const forgotten = await forgetAtVerifier(account.id);
  // The IdP's own traces of its sign-ins: which sign-in each verification session served, the
  // face throttle, device history and passkeys, and oidc-provider's sessions, grants and tokens
  // (a browser signed in as the account is signed out).
  await new Attempts(store, new FaceThrottle(store, config.throttle)).forgetAccount(account.id);
  await new DeviceHistory(store, config.risk.maxDevicesPerAccount).forget(account.id);
  await new Passkeys(store, config.issuer).forgetAccount(account.id);
  await forgetAccountRecords(store, account.id, account.email);
  await forgetEmailVerification(store, account.id);
  await accounts.delete(account.id);
  return forgotten;
}
