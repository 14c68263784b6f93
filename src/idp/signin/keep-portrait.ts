// After an approved enrolment on a service that keeps no templates (the real Didit), keep the
// captured portrait (encrypted) so later logins can send it as `portrait_image`. The workflow
// must retain media for the decision to carry the image URL.
import type { Logger } from '../../logger.ts';
import type { Verification } from './verification.ts';

const MAX_PORTRAIT_BYTES = 1024 * 1024;

export async function keepEnrolmentPortrait(verification: Verification, sessionId: string, accountId: string, log: Logger): Promise<boolean> {
  const vault = verification.settings.portraits;
  if (!vault) return false;
  const decision = await verification.client.getDecision(sessionId);
  const url = decision.liveness_checks?.find((c) => typeof c.reference_image === 'string')?.reference_image;
  if (typeof url !== 'string') {
    log.warn({ sessionId }, 'enrolment approved but the decision has no reference image: enable media retention on the enrolment workflow');
    return false;
  }
  const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'follow' });
  const length = Number(res.headers.get('content-length') ?? 0);
  if (!res.ok || length > MAX_PORTRAIT_BYTES) {
    log.warn({ sessionId, status: res.status }, 'could not download the enrolment portrait');
    return false;
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_PORTRAIT_BYTES) return false;
  await vault.save(accountId, bytes);
  return true;
}
