// Accounts: search by email; one account's enrolment, devices, passkeys, face throttle, last
// sign-ins and audit trail; actions: unlock throttling, reset enrolment, delete (erasure).
import type { Context } from 'koa';
import type { Config } from '../../config.ts';
import { HttpError } from '../../http/body.ts';
import type { Store } from '../../store/index.ts';
import type { Accounts } from '../accounts.ts';
import { AuditLog, auditSubject } from '../audit.ts';
import { describePasskey } from '../passkeys/passkeys.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import type { SigninHistory } from '../signin/history.ts';
import { deviceFingerprint } from '../signin/history.ts';
import type { DeviceHistory } from '../signin/risk.ts';
import type { FaceThrottle } from '../signin/throttle.ts';
import { eraseAccount } from '../erasure.ts';
import type { ForgetAtVerifier } from '../erasure.ts';
import { consoleState } from './auth.ts';
import { renderConsole } from './render.ts';

export type AccountsDeps = { config: Config; store: Store; accounts: Accounts; passkeys: Passkeys; throttle: FaceThrottle; devices: DeviceHistory; history: SigninHistory; audit: AuditLog; forget: ForgetAtVerifier };

/** How long an operator's "I have checked this person" lets a reset account enrol without another factor. */
export const OPERATOR_APPROVAL_MS = 24 * 3600 * 1000;

export function searchAccounts({ accounts }: AccountsDeps) {
  return async (ctx: Context) => {
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim().toLowerCase() : '';
    const found = q ? (await accounts.list()).filter((a) => a.email.includes(q)).slice(0, 50) : [];
    await renderConsole(ctx, 'admin/accounts', { title: 'Accounts', q, found, notice: ctx.query.deleted === '1' ? 'The account and everything about it were erased.' : null });
  };
}

async function load(deps: AccountsDeps, ctx: Context) {
  const account = await deps.accounts.findById(ctx.params.id!);
  if (!account) throw new HttpError(404, 'There is no such account.');
  return account;
}

const NOTICES: Record<string, string> = {
  unlocked: 'Face sign-in is unlocked: the failure count is back to zero.',
  reset: 'The enrolment was reset: the face is removed; the person enrols again at their next sign-in.',
};

export function accountDetail(deps: AccountsDeps) {
  return async (ctx: Context) => {
    const account = await load(deps, ctx);
    const [passkeys, face, devices, signins, trail] = await Promise.all([
      deps.passkeys.list(account.id),
      deps.throttle.state(account.id),
      deps.devices.all(account.id),
      deps.history.list(account.id),
      deps.audit.list({ subject: auditSubject(account.id) }, { limit: 20 }),
    ]);
    await renderConsole(ctx, 'admin/account', {
      title: account.email,
      account,
      subject: auditSubject(account.id),
      passkeys: passkeys.map(describePasskey),
      face,
      devices: Object.entries(devices).map(([id, d]) => ({ id: deviceFingerprint(id), ...d })),
      signins,
      trail: trail.entries,
      notice: NOTICES[String(ctx.query.done ?? '')] ?? null,
    });
  };
}

const actor = (ctx: Context) => auditSubject(consoleState(ctx).console.accountId);
const back = (ctx: Context, id: string, done: string) => {
  ctx.status = 303;
  ctx.redirect(`/admin/accounts/${encodeURIComponent(id)}?done=${done}`);
};

export function unlockThrottle(deps: AccountsDeps) {
  return async (ctx: Context) => {
    const account = await load(deps, ctx);
    const before = await deps.throttle.state(account.id);
    await deps.throttle.reset(account.id);
    await deps.audit.append('account.throttle_unlocked', { actor: actor(ctx), subject: auditSubject(account.id), details: { failures_before: before.failures, disabled_before: before.disabled } });
    back(ctx, account.id, 'unlocked');
  };
}

/**
 * Reset enrolment: the service forgets the face (template and sessions), the account is no longer
 * enrolled. The person enrols again through sign-up with the same email; that enrolment completes
 * only in a sign-in that proved a passkey of the account, or, when the operator ticked "I have
 * verified this person", in the browser of whoever opens the one-time link shown here once (a
 * single-use grant valid 24 hours, src/idp/signin/reenrolment.ts) — the operator hands it to the
 * person they verified, out of band. Never to whoever signs up next with the email.
 */
export function resetEnrolment(deps: AccountsDeps) {
  return async (ctx: Context) => {
    const account = await load(deps, ctx);
    const form = ctx.state.form as URLSearchParams;
    const approved = form.get('verified') === 'yes';
    await deps.forget(account.id);
    const reset = await deps.accounts.resetEnrolment(account.id, actor(ctx), { grantForMs: approved ? OPERATOR_APPROVAL_MS : null });
    if (!reset) throw new HttpError(404, 'There is no such account.');
    if (!reset.grant) return back(ctx, account.id, 'reset');
    // Shown once: only its hash is kept, so a lost link means another reset.
    ctx.set('Cache-Control', 'no-store');
    await renderConsole(ctx, 'admin/reenrol-link', {
      title: account.email,
      account,
      link: `${deps.config.issuer}/account/re-enrol/claim?grant=${reset.grant}`,
      hours: OPERATOR_APPROVAL_MS / 3600_000,
    });
  };
}

/** Erasure, the same path as `users delete`; the operator types the email to confirm. */
export function deleteAccount(deps: AccountsDeps) {
  return async (ctx: Context) => {
    const account = await load(deps, ctx);
    const form = ctx.state.form as URLSearchParams;
    if ((form.get('confirm') ?? '').trim().toLowerCase() !== account.email) throw new HttpError(400, 'Type the account\'s email exactly to confirm the deletion.');
    if (account.id === consoleState(ctx).console.accountId) throw new HttpError(400, 'Operators cannot delete their own account from the console.');
    await eraseAccount(deps.config, deps.store, account, deps.forget, actor(ctx));
    ctx.status = 303;
    ctx.redirect('/admin/accounts?deleted=1');
  };
}
