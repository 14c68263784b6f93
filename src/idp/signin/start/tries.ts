// Step: the sign-in's own tries (signin.maxAttempts): every way into the camera counts against them.
import { HttpError } from '../../../http/body.ts';
import { OUT_OF_TRIES } from '../verification.ts';
import type { Verification } from '../verification.ts';

export async function checkSigninTries(verification: Verification, uid: string): Promise<void> {
  if ((await verification.attempts.failures(uid)) >= verification.limits.maxAttempts) throw new HttpError(429, OUT_OF_TRIES);
}
