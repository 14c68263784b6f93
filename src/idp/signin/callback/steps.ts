// GET /reauth/callback?verificationSessionId=&status= — where the capture page sends the browser.
// The `status` in the query is a hint for nobody: only the signed webhook or the decision
// endpoint (asked with our API key) decides.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { HttpError } from '../../../http/body.ts';
import type { Config } from '../../../config.ts';
import type { Accounts } from '../../accounts.ts';
import { loadInteraction } from '../../interaction/context.ts';
import type { Interaction } from '../../interaction/context.ts';
import { csrfToken } from '../../interaction/csrf.ts';
import { renderPage } from '../../views.ts';
import type { Attempt } from '../attempts.ts';
import type { Verification } from '../verification.ts';
import { completeEnrolment } from '../enrolment.ts';
import { FACE_DISABLED, faceWaitMessage } from '../throttle.ts';
import { acrToReturn, amrFor, requestedAcrs } from '../acr.ts';
import { finishUnmet } from '../../interaction/acr-plan.ts';
import { renderPasskeyOffer } from '../../interaction/passkey.ts';
import type { Store } from '../../../store/index.ts';
import type { Passkeys } from '../../passkeys/passkeys.ts';
import { holdLogin, passkeyProof } from '../held-login.ts';
import type { Achieved } from '../acr.ts';
import { noteSignin } from '../history.ts';

type State = { attempt: Attempt; interaction: Interaction };
const state = (ctx: Context) => ctx.state as State & { log: { info: Function; warn: Function } };

const DECIDED = new Set(['Approved', 'Declined', 'In Review']);
const UNFINISHED = new Set(['Abandoned', 'Expired', 'Kyc Expired', 'Resubmitted']);
/** How long a capture may stay "In Progress" after the browser came back before we give up on it. */
const GIVE_UP_AFTER_MS = 30_000;
/** While In Review, ask the decision endpoint this often in case an operator's webhook is lost. */
const REVIEW_RECHECK_MS = 15_000;

export function loadAttempt(verification: Verification) {
  return async (ctx: Context, next: Next) => {
    const sessionId = String(ctx.query.verificationSessionId ?? '');
    const attempt = sessionId ? await verification.attempts.get(sessionId) : undefined;
    if (!attempt) throw new HttpError(400, 'This verification is not part of a sign-in in progress. Start again from the application.');
    state(ctx).attempt = attempt;
    await next();
  };
}

/**
 * oidc-provider scopes the interaction cookie to /interaction/<uid>, so the browser's proof of
 * which sign-in it is doing is only readable there: continue under that path.
 */
export function continueUnderInteraction() {
  return async (ctx: Context) => {
    const { attempt } = state(ctx);
    ctx.redirect(`/interaction/${encodeURIComponent(attempt.uid)}/verified?verificationSessionId=${encodeURIComponent(attempt.sessionId)}`);
  };
}

/** The verdict must be for the sign-in this browser is doing, and for that sign-in's account. */
export function checkInteraction(provider: Provider) {
  return async (ctx: Context, next: Next) => {
    const { attempt } = state(ctx);
    if (ctx.params.uid !== attempt.uid) throw new HttpError(400, 'This verification belongs to another sign-in.');
    const interaction = await loadInteraction(ctx, provider);
    state(ctx).interaction = interaction;
    await next();
  };
}

async function askDecisionEndpoint(ctx: Context, verification: Verification, attempt: Attempt): Promise<Attempt> {
  let decision;
  try {
    decision = await verification.client.getDecision(attempt.sessionId);
  } catch (err) {
    // The service is down or slow: keep waiting (the page refreshes), the webhook may still come.
    state(ctx).log.warn({ sessionId: attempt.sessionId, err: (err as Error).message }, 'decision endpoint unavailable');
    return attempt;
  }
  if (decision.session_id !== attempt.sessionId || (decision.vendor_data ?? null) !== attempt.accountId) {
    state(ctx).log.warn({ sessionId: attempt.sessionId }, 'decision does not match the attempt; ignored');
    return attempt;
  }
  await verification.attempts.recordStatus(attempt.sessionId, decision.status, 'decision', Math.floor(Date.now() / 1000));
  return (await verification.attempts.get(attempt.sessionId)) ?? attempt;
}

/** How long one callback request holds on for the webhook before answering "checking". */
const HOLD_MS = 2000;
const HOLD_POLL_MS = 50;

/**
 * The browser usually arrives a few milliseconds before the webhook does. Holding the request
 * briefly turns that race into a direct answer instead of a page that refreshes a second later.
 */
async function holdForWebhook(verification: Verification, attempt: Attempt, budgetMs: number): Promise<Attempt> {
  const until = Date.now() + Math.min(HOLD_MS, budgetMs);
  let current = attempt;
  // Two events of one second with different statuses (needsDecision): no webhook will settle it,
  // the decision endpoint will (awaitVerdict asks it at once).
  while ((current.status === null || !(DECIDED.has(current.status) || UNFINISHED.has(current.status))) && !current.needsDecision && Date.now() < until) {
    await new Promise((r) => setTimeout(r, HOLD_POLL_MS));
    current = (await verification.attempts.get(attempt.sessionId)) ?? current;
  }
  return current;
}

/** Waits for the webhook (holding, then refreshing the page), then asks the decision endpoint. */
export function awaitVerdict(verification: Verification, config: Config) {
  return async (ctx: Context, next: Next) => {
    let { attempt } = state(ctx);
    const returnedAt = attempt.returnedAt ?? (await verification.attempts.markReturned(attempt.sessionId));
    const budget = config.signin.webhookWaitSeconds * 1000 - (Date.now() - returnedAt);
    if (budget > 0) attempt = await holdForWebhook(verification, attempt, budget);
    const waited = Date.now() - returnedAt;
    const needsCheck =
      (attempt.status === null || !DECIDED.has(attempt.status)) && waited >= config.signin.webhookWaitSeconds * 1000 && !UNFINISHED.has(attempt.status ?? '');
    const reviewStale = attempt.status === 'In Review' && Date.now() - (attempt.statusAt ?? 0) >= REVIEW_RECHECK_MS;
    if (needsCheck || reviewStale || attempt.needsDecision) attempt = await askDecisionEndpoint(ctx, verification, attempt);
    // Conflicting events and no answer from the decision endpoint: nothing finishes yet.
    if (attempt.needsDecision) attempt = { ...attempt, status: null };
    state(ctx).attempt = attempt;

    if (attempt.status !== null && (DECIDED.has(attempt.status) || UNFINISHED.has(attempt.status))) return next();
    if (waited < GIVE_UP_AFTER_MS) {
      return renderPage(ctx, 'checking', { title: 'Checking your selfie…', refreshSeconds: 1 });
    }
    // Never finished (closed the tab, lost connection): back to the login prompt.
    ctx.redirect(`/interaction/${attempt.uid}?notice=unfinished`);
  };
}

/** The service declined this enrolment because its account already has a face (ALREADY_ENROLLED). */
async function declinedAsAlreadyEnrolled(verification: Verification, sessionId: string): Promise<boolean> {
  try {
    const d = await verification.client.getDecision(sessionId);
    return [...(d.liveness_checks ?? []), ...(d.ip_analyses ?? [])].some((b) => (b.warnings ?? []).some((w) => w.risk === 'ALREADY_ENROLLED'));
  } catch {
    return false; // unknown: the ordinary declined page, with its retry, is the safe answer
  }
}

/** A verdict's "used" mark lives as long as the sign-in that could use it. */
const verdictTtl = (interaction: Interaction) => Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));

/** Offer a passkey unless the account has one registered in this browser (its device id). */
async function offersPasskey(config: Config, passkeys: Passkeys, attempt: Attempt): Promise<boolean> {
  if (!config.passkeys.offerAfterFaceSignin) return false;
  return !(await passkeys.list(attempt.accountId)).some((p) => p.deviceId !== null && p.deviceId === attempt.deviceId);
}

export function actOnVerdict(provider: Provider, verification: Verification, accounts: Accounts, config: Config, csrfSecret: string, { store, passkeys }: { store: Store; passkeys: Passkeys }) {
  return async (ctx: Context) => {
    const { attempt, interaction } = state(ctx);
    switch (attempt.status) {
      case 'Approved': {
        // Set-if-absent: two requests racing with one Approved verdict cannot both finish.
        if (!(await verification.attempts.markUsed(attempt.sessionId, verdictTtl(interaction)))) {
          throw new HttpError(400, 'This verification has already been used.');
        }
        if (attempt.purpose === 'enrol') {
          // Only the first approved enrolment of an account becomes its face (enrolment.ts).
          const factor = await passkeyProof(store, attempt.uid);
          if (!(await completeEnrolment(verification, accounts, attempt, state(ctx).log as never, { otherFactor: factor?.accountId === attempt.accountId }))) {
            state(ctx).log.warn({ sessionId: attempt.sessionId }, 'enrolment approved for an account another sign-up enrolled first; refused');
            throw new HttpError(409, 'This account has already been set up. Sign in with your selfie instead.');
          }
        }
        // A success ends the run of consecutive failures (throttle.ts), and makes the device known (risk.ts).
        await verification.throttle.reset(attempt.accountId);
        if (attempt.deviceId) await verification.risk.devices.approved(attempt.accountId, attempt.deviceId);
        // The acr is earned from the workflow the session was opened with (its liveness method),
        // and from a passkey this sign-in verified first for the same account (mfa).
        const proof = await passkeyProof(store, attempt.uid);
        const achieved: Achieved = {
          face: { method: attempt.method ?? 'PASSIVE' },
          ...(proof && proof.accountId === attempt.accountId ? { passkey: { hardware: proof.hardware, userVerified: proof.userVerified } } : {}),
        };
        const acr = acrToReturn(requestedAcrs(interaction.params), achieved);
        if (!acr) return finishUnmet(ctx, { provider }, 'This sign-in did not meet the requested authentication context.');
        const login = { accountId: attempt.accountId, amr: amrFor(achieved), acr, ts: Math.floor(Date.now() / 1000) };
        if (!achieved.passkey && (await offersPasskey(config, passkeys, attempt))) {
          // "Use this device next time": the login waits, held for this sign-in, until the offer is answered.
          await holdLogin(store, attempt.uid, login, verdictTtl(interaction));
          return renderPasskeyOffer(ctx, csrfSecret, attempt.uid);
        }
        await noteSignin(ctx, login);
        ctx.respond = false;
        await provider.interactionFinished(ctx.req, ctx.res, { login: { ...login, remember: true } }, { mergeWithLastSubmission: false });
        return;
      }
      case 'Declined': {
        // A sign-up whose email already has a face (another enrolment came first): retrying cannot help.
        if (attempt.purpose === 'enrol' && (await declinedAsAlreadyEnrolled(verification, attempt.sessionId))) {
          await verification.attempts.countDecline(attempt, verdictTtl(interaction));
          throw new HttpError(409, 'An account with this email has already been set up. Sign in with your selfie instead.');
        }
        // Counted once per session however it was learnt (webhook, decision, this page, reloads).
        await verification.attempts.countDecline(attempt, verdictTtl(interaction));
        const failures = await verification.attempts.failures(attempt.uid);
        // The account's throttle: how long before the next selfie, or none at all (not why).
        const face = attempt.purpose === 'login' ? await verification.throttle.state(attempt.accountId) : undefined;
        return renderPage(ctx, 'declined', {
          title: 'We could not verify it is you',
          uid: attempt.uid,
          purpose: attempt.purpose,
          retriesLeft: face?.disabled ? 0 : Math.max(0, config.signin.maxAttempts - failures),
          wait: face && !face.disabled && face.waitSeconds > 0 ? faceWaitMessage(face.waitSeconds) : null,
          faceDisabled: face?.disabled ? FACE_DISABLED : null,
          csrf: csrfToken(csrfSecret, attempt.uid),
        });
      }
      case 'In Review':
        return renderPage(ctx, 'in-review', { title: 'Your selfie is being reviewed', refreshSeconds: 5 });
      default:
        ctx.redirect(`/interaction/${attempt.uid}?notice=unfinished`);
    }
  };
}
