// The IdP's one door to the verification service: the Didit v3 contract over HTTP, whether the
// service is the embedded verifier or the real Didit. Nothing here knows which. Starting a selfie
// is `startVerification` in ./start/ (its steps, one file each).
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { DiditClient } from '../../didit/index.ts';
import type { Accounts } from '../accounts.ts';
import type { Attempts } from './attempts.ts';
import type { PortraitVault } from './portraits.ts';
import type { RateLimiter } from '../../store/index.ts';
import type { RiskPolicy } from './risk.ts';
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
  /** Called once an enrolment made an account's face (the address confirmation mail); set at start-up. */
  afterEnrolment?: (accountId: string) => void;
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

export const OUT_OF_TRIES = 'You have used all your tries for this sign-in. Start again from the application later.';
export const ALREADY_ENROLLED = 'An account with this email already exists. Sign in instead.';
