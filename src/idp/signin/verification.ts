// The IdP's one door to the verification service: the Didit v3 contract over HTTP, whether the
// service is the embedded verifier or the real Didit. Nothing here knows which.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { DiditApiError, DiditClient } from '../../didit/index.ts';
import { HttpError } from '../../http/body.ts';
import type { Account, Accounts } from '../accounts.ts';
import type { Interaction } from '../interaction/context.ts';
import type { Attempts, Purpose } from './attempts.ts';
import type { PortraitVault } from './portraits.ts';
import type { RateLimiter } from '../../store/index.ts';
import { FACE_DISABLED, faceWaitMessage } from './throttle.ts';
import type { LivenessMethod } from './acr.ts';
import { assessRisk, stronger } from './risk.ts';
import type { RiskPolicy, RiskReason } from './risk.ts';
import type { FaceThrottle } from './throttle.ts';

export type VerificationSettings = {
  baseUrl: string;
  apiKey: string;
  webhookSecret: string;
  reauthWorkflowId: string;
  enrolWorkflowId: string;
  /** Sign-in workflows with a challenge method (face-active, step-up); none: only PASSIVE sign-in. */
  challengeWorkflowIds?: { ACTIVE_3D?: string; FLASHING?: string };
  /** Only for a service that keeps no templates (the real Didit): the IdP sends the reference. */
  portraits: PortraitVault | undefined;
};

export type VerificationLimits = {
  /** Declined selfies per sign-in; no verification starts once they are used. */
  maxAttempts: number;
  /** How long a session stays bound to the sign-in that opened it: past the service's session lifetime. */
  bindingTtlSeconds: number;
};

/** What limits starting verifications beyond one sign-in: the account's face throttle, the client IP's budget. */
export type VerificationGuards = {
  throttle: FaceThrottle;
  /** Which liveness method a login uses, from the device and the network (risk.ts). */
  risk: RiskPolicy;
  /** Verification sessions opened per client IP (signin.verificationsPerIpPerHour). */
  perIp: RateLimiter;
};

export type Verification = {
  client: DiditClient;
  settings: VerificationSettings;
  attempts: Attempts;
  accounts: Accounts;
  issuer: string;
  limits: VerificationLimits;
  throttle: FaceThrottle;
  risk: RiskPolicy;
  perIp: RateLimiter;
};

export function createVerification(
  settings: VerificationSettings,
  attempts: Attempts,
  accounts: Accounts,
  issuer: string,
  limits: VerificationLimits,
  guards: VerificationGuards,
): Verification {
  return { client: new DiditClient({ baseUrl: settings.baseUrl, apiKey: settings.apiKey }), settings, attempts, accounts, issuer, limits, ...guards };
}

const LANGUAGES = ['en', 'id'];

/** ui_locales is a space-separated preference list; the first one the capture page speaks wins. */
export function pickLanguage(uiLocales: unknown): string | undefined {
  if (typeof uiLocales !== 'string') return undefined;
  for (const tag of uiLocales.split(' ')) {
    const lang = tag.toLowerCase().split('-')[0]!;
    if (LANGUAGES.includes(lang)) return lang;
  }
  return undefined;
}

export const DEVICE_COOKIE = 'selfie_device';

/** A long-lived random id for this browser, sent to the verifier as `device_id` metadata. */
export function ensureDeviceCookie(ctx: Context): string {
  const existing = (ctx.state.deviceId as string | undefined) ?? ctx.cookies.get(DEVICE_COOKIE, { signed: true });
  if (existing) return (ctx.state.deviceId = existing);
  const id = randomBytes(16).toString('base64url');
  ctx.cookies.set(DEVICE_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 400 * 24 * 3600 * 1000, overwrite: true });
  return (ctx.state.deviceId = id);
}

/** How many times a session already bound to another sign-in is deleted and asked for again. */
const CLAIM_TRIES = 3;

export const OUT_OF_TRIES = 'You have used all your tries for this sign-in. Start again from the application later.';
export const ALREADY_ENROLLED = 'An account with this email already exists. Sign in instead.';

/** The sign-in's own tries (signin.maxAttempts): every way into the camera counts against them. */
async function checkSigninTries(verification: Verification, uid: string): Promise<void> {
  if ((await verification.attempts.failures(uid)) >= verification.limits.maxAttempts) throw new HttpError(429, OUT_OF_TRIES);
}

/**
 * The account's consecutive failures across sign-ins (throttle.ts): disabled, or a wait, or past
 * the free failures one attempt (turn) per failure count. Logins only: an enrolment is no attempt
 * to be someone. The user is told how long to wait, not why.
 */
async function checkFaceThrottle(ctx: Context, verification: Verification, accountId: string, uid: string): Promise<void> {
  const { throttle } = verification;
  const state = await throttle.state(accountId);
  if (state.disabled) throw new HttpError(403, FACE_DISABLED);
  let wait = state.waitSeconds;
  if (wait === 0 && !(await throttle.takeTurn(accountId, state.failures, uid))) wait = await throttle.turnSecondsLeft(accountId, state.failures);
  if (wait > 0) {
    (ctx.state.log as { info: Function } | undefined)?.info({ accountId, failures: state.failures, waitSeconds: wait }, 'face sign-in throttled');
    ctx.set('Retry-After', String(wait));
    throw new HttpError(429, faceWaitMessage(wait));
  }
}

/** Verification sessions opened per client IP, shared by every instance on one Redis. */
async function countSessionStart(ctx: Context, verification: Verification): Promise<void> {
  const state = await verification.perIp.consume(ctx.ip);
  if (!state.allowed) {
    ctx.set('Retry-After', String(state.resetSeconds));
    throw new HttpError(429, 'Too many attempts from your network. Try again later.');
  }
}

/**
 * Opens a verification session for this interaction and returns the capture page URL, read top to
 * bottom: the per-sign-in limit, the account's throttle, the IP's budget, a session from the
 * service, bound to this sign-in only.
 */
export async function startVerification(
  ctx: Context,
  verification: Verification,
  { interaction, account, purpose, method = 'PASSIVE' }: { interaction: Interaction; account: Account; purpose: Purpose; method?: LivenessMethod },
): Promise<string> {
  const { attempts, limits } = verification;
  const deviceId = ensureDeviceCookie(ctx);
  await checkSigninTries(verification, interaction.uid);
  // A sign-up (or its retry) never re-enrols an account that has a face: asked afresh, not from the caller's copy.
  if (purpose === 'enrol' && (await verification.accounts.findById(account.id))?.enrolledAt) throw new HttpError(409, ALREADY_ENROLLED);
  if (purpose === 'login') await checkFaceThrottle(ctx, verification, account.id, interaction.uid);
  await countSessionStart(ctx, verification);
  const choice = purpose === 'login' ? await chooseMethod(ctx, verification, { accountId: account.id, deviceId, requested: method }) : undefined;
  const workflow = choice ? signinWorkflow(verification.settings, choice.method) : { id: verification.settings.enrolWorkflowId, method: undefined };
  const risk = choice ? { risk: { method: workflow.method, reasons: choice.reasons } } : {};
  for (let i = 0; i < CLAIM_TRIES; i++) {
    const session = await openSession(ctx, verification, { interaction, account, purpose, workflowId: workflow.id, extraMetadata: risk });
    if (await attempts.claim(session.session_id, interaction.uid, account.id, limits.bindingTtlSeconds)) {
      // A new session means the previous one of this sign-in is finished at the service; its
      // verdict may not have reached us yet. Learn it first, so that it counts against the tries
      // (the sign-in's and the account's).
      await settlePrevious(ctx, verification, interaction.uid, session.session_id);
      try {
        await checkSigninTries(verification, interaction.uid);
        if (purpose === 'login') await checkFaceThrottle(ctx, verification, account.id, interaction.uid);
      } catch (err) {
        await deleteStaleSession(verification, session.session_id);
        throw err;
      }
      const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
      await attempts.begin({ sessionId: session.session_id, uid: interaction.uid, accountId: account.id, purpose, deviceId, ...(workflow.method ? { method: workflow.method } : {}) }, ttl);
      if (purpose === 'login') await verification.risk.devices.seen(account.id, deviceId);
      return session.url;
    }
    // The service handed back an unfinished session that another sign-in opened (the contract
    // reuses one per account and workflow). Its URL is that sign-in's alone: never shown here.
    // Deleting it makes the service open a fresh one; the other sign-in's capture ends there.
    (ctx.state.log as { warn: Function } | undefined)?.warn({ sessionId: session.session_id }, 'verification session belongs to another sign-in; deleted and opened anew');
    await deleteStaleSession(verification, session.session_id);
  }
  throw new HttpError(503, 'We could not start your selfie just now. Try again in a moment.');
}

/**
 * The liveness method of a login: the risk policy's (device, network) or the acr request's,
 * whichever is stronger, with every reason. A challenge the policy wants but no workflow offers
 * falls back to PASSIVE, said in the reasons and the log (an acr that needs one never gets here:
 * it is unreachable, acr-plan.ts). The reasons go to the session's metadata and the log.
 */
async function chooseMethod(
  ctx: Context,
  verification: Verification,
  { accountId, deviceId, requested }: { accountId: string; deviceId: string; requested: LivenessMethod },
): Promise<{ method: LivenessMethod; reasons: (RiskReason | 'challenge_unavailable')[] }> {
  const decision = await assessRisk(verification.risk, { accountId, deviceId, ip: ctx.ip });
  const reasons: (RiskReason | 'challenge_unavailable')[] = [...decision.reasons];
  let method = stronger(decision.method, requested);
  if (method !== decision.method) reasons.push('acr_requested');
  const challenges = verification.settings.challengeWorkflowIds ?? {};
  if (method !== 'PASSIVE' && !challenges.ACTIVE_3D && !challenges.FLASHING) {
    method = 'PASSIVE';
    reasons.push('challenge_unavailable');
  }
  const log = ctx.state.log as { info: Function; warn: Function } | undefined;
  (reasons.includes('challenge_unavailable') ? log?.warn : log?.info)?.call(log, { accountId, method, reasons, ip: decision.ip }, 'risk policy');
  return { method, reasons };
}

/**
 * The sign-in workflow for a liveness method: PASSIVE is the re-auth workflow; a challenge is the
 * configured ACTIVE_3D or FLASHING one (the other when only one is configured). The method recorded
 * is the workflow's, which is what the acr is earned from.
 */
export function signinWorkflow(settings: VerificationSettings, method: LivenessMethod): { id: string; method: LivenessMethod } {
  if (method === 'PASSIVE') return { id: settings.reauthWorkflowId, method };
  const ids = settings.challengeWorkflowIds ?? {};
  const other: LivenessMethod = method === 'ACTIVE_3D' ? 'FLASHING' : 'ACTIVE_3D';
  const id = ids[method] ?? ids[other as 'ACTIVE_3D' | 'FLASHING'];
  if (!id) throw new HttpError(503, 'This sign-in needs a check that is not available just now. Try again later.');
  return { id, method: ids[method] ? method : other };
}

async function openSession(
  ctx: Context,
  verification: Verification,
  {
    interaction,
    account,
    purpose,
    workflowId,
    extraMetadata,
  }: { interaction: Interaction; account: Account; purpose: Purpose; workflowId: string; extraMetadata: Record<string, unknown> },
) {
  const { settings, client, issuer } = verification;
  const portrait = purpose === 'login' && settings.portraits ? await settings.portraits.load(account.id) : undefined;
  const language = pickLanguage(interaction.params.ui_locales);
  return client.createSession({
    workflow_id: workflowId,
    vendor_data: account.id,
    callback: `${issuer}/reauth/callback`,
    metadata: {
      purpose,
      from_ip: ctx.ip,
      device_id: ensureDeviceCookie(ctx),
      ...extraMetadata,
    },
    ...(language ? { language } : {}),
    ...(portrait ? { portrait_image: portrait.toString('base64') } : {}),
  });
}

const SETTLED = new Set(['Approved', 'Declined', 'In Review', 'Abandoned', 'Expired', 'Kyc Expired']);

async function settlePrevious(ctx: Context, verification: Verification, uid: string, newSessionId: string): Promise<void> {
  const previous = await verification.attempts.current(uid);
  if (!previous || previous.sessionId === newSessionId || (previous.status !== null && SETTLED.has(previous.status))) return;
  try {
    const decision = await verification.client.getDecision(previous.sessionId);
    if (decision.session_id !== previous.sessionId || (decision.vendor_data ?? null) !== previous.accountId) return;
    await verification.attempts.recordStatus(previous.sessionId, decision.status, 'decision', Math.floor(Date.now() / 1000));
  } catch (err) {
    // Deleted by a newer sign-in (404), or the service is unreachable: nothing to learn now.
    (ctx.state.log as { warn: Function } | undefined)?.warn({ sessionId: previous.sessionId, err: (err as Error).message }, 'previous verification of this sign-in could not be settled');
  }
}

async function deleteStaleSession(verification: Verification, sessionId: string): Promise<void> {
  try {
    await verification.client.deleteSession(sessionId);
  } catch (err) {
    // Already gone (finished and removed, or deleted by a concurrent request): the goal is reached.
    if (err instanceof DiditApiError && err.status === 404) return;
    throw err;
  }
}
