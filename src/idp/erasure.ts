// Data-subject erasure of one account: `users delete`, the console's "Delete account", the account
// page's "Delete my account" and the expiry of accounts whose address was never confirmed
// (src/idp/email/expiry.ts) run this one path. First nothing finds the account (no new sign-in can
// start), then the verification service forgets it, then every trace the IdP keeps goes, then the
// account; the audit log keeps only that it happened (an opaque subject, who, when). Running it
// again finishes an interrupted one.
import type { Config } from '../config.ts';
import type { DiditClient } from '../didit/index.ts';
import type { Store } from '../store/index.ts';
import type { Account } from './accounts.ts';
import { Accounts } from './accounts.ts';
import { forgetAccountRecords } from './adapter.ts';
import { forgetConsoleSessions } from './admin/session.ts';
import { forgetOutbox } from './email/mailer.ts';
import { forgetEmailVerification } from './email/verification.ts';
import { Passkeys } from './passkeys/passkeys.ts';
import { Attempts } from './signin/attempts.ts';
import { SigninHistory } from './signin/history.ts';
import { PortraitVault } from './signin/portraits.ts';
import { DeviceHistory } from './signin/risk.ts';
import { FaceThrottle } from './signin/throttle.ts';

export type Forgotten = { template: boolean; sessions: number };

/** What the verification service holds about an account (its vendor_data: template, sessions), removed. */
export type ForgetAtVerifier = (accountId: string) => Promise<Forgotten>;

/**
 * Over the v3 contract (the real Didit, or the embedded verifier reached over HTTP): every session
 * of the account (listed by vendor_data) deleted; the reference portrait is ours and goes too.
 */
export function forgetOverContract(client: DiditClient, store: Store, portraitKey: Buffer | undefined): ForgetAtVerifier {
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

export async function eraseAccount(config: Config, store: Store, account: Account, forget: ForgetAtVerifier, actor: string): Promise<Forgotten> {
  const accounts = new Accounts(store);
  await accounts.markErasing(account.id);
  const forgotten = await forget(account.id);
  // The IdP's own traces of its sign-ins: which sign-in each verification session served, the
  // face throttle, device and sign-in history, passkeys, console sessions, the pending address
  // confirmation (and its mails in the development outbox), and oidc-provider's sessions, grants and tokens (a browser signed in as the
  // account is signed out).
  await new Attempts(store, new FaceThrottle(store, config.throttle)).forgetAccount(account.id);
  await new DeviceHistory(store, config.risk.maxDevicesPerAccount).forget(account.id);
  await new SigninHistory(store, config.admin.signinHistoryLength).forget(account.id);
  await new Passkeys(store, config.issuer).forgetAccount(account.id);
  await forgetConsoleSessions(store, account.id);
  await forgetEmailVerification(store, account.id);
  await forgetOutbox(config, account.id, account.email);
  await forgetAccountRecords(store, account.id, account.email);
  await accounts.delete(account.id, actor);
  return forgotten;
}
