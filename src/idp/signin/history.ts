// The last sign-ins of an account (time, acr/amr, IP, device), a bounded list in the store, shown
// to the person on /account and to operators. Erased with the account (erasure.ts).
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Store } from '../../store/index.ts';
import { DEVICE_COOKIE } from './verification.ts';

export type SigninRecord = { at: string; acr: string; amr: string[]; ip: string; device: string | null; userAgent: string | null };

const historyKey = (accountId: string) => `account-signins:${accountId}`;

export class SigninHistory {
  readonly #store: Store;
  readonly #length: number;
  constructor(store: Store, length: number) {
    this.#store = store;
    this.#length = length;
  }

  /**
   * Newest first, at most `length` entries. Two sign-ins of one account finishing in the same
   * millisecond on two instances may lose one line: a display list, not a security record (the
   * audit log and the verifier's sessions are those).
   */
  async record(accountId: string, entry: SigninRecord): Promise<void> {
    const list = (await this.#store.get<SigninRecord[]>(historyKey(accountId))) ?? [];
    await this.#store.set(historyKey(accountId), [entry, ...list].slice(0, this.#length) as never);
  }

  async list(accountId: string): Promise<SigninRecord[]> {
    return (await this.#store.get<SigninRecord[]>(historyKey(accountId))) ?? [];
  }

  async forget(accountId: string): Promise<void> {
    await this.#store.delete(historyKey(accountId));
  }
}

/**
 * Records a finished sign-in: called where a login is handed to oidc-provider. The history lives
 * on ctx.state (set once by the app) so the sign-in steps need no new parameter.
 */
export async function noteSignin(ctx: Context, login: { accountId: string; acr: string; amr: string[] }): Promise<void> {
  const history = ctx.state.signinHistory as SigninHistory | undefined;
  if (!history) return;
  const device = ctx.cookies.get(DEVICE_COOKIE, { signed: true });
  const entry: SigninRecord = {
    at: new Date().toISOString(),
    acr: login.acr,
    amr: login.amr,
    ip: ctx.ip,
    // The device cookie is a bearer of trust (risk.ts): shown as a short fingerprint, never itself.
    device: device ? deviceFingerprint(device) : null,
    userAgent: ctx.get('user-agent').slice(0, 200) || null,
  };
  await history.record(login.accountId, entry).catch((err: unknown) => (ctx.state.log as { warn: Function } | undefined)?.warn({ err: (err as Error).message }, 'sign-in history not recorded'));
}

/** How a device is shown (console, account page, data export): a short hash, never the cookie's value. */
export function deviceFingerprint(deviceId: string): string {
  return createHash('sha256').update(deviceId).digest('hex').slice(0, 10);
}
