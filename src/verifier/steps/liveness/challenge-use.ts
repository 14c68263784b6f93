// Before any pixel of a FLASHING / ACTIVE_3D recording or a PASSIVE screen-light burst is looked
// at: the upload answers the challenge the server issued to this page load (taken with the upload
// grant, so it is gone after this upload whatever the outcome), it was never answered before, not
// expired, and not answered sooner than it can be performed (the FLASHING sequence, the screen-light
// burst) or later than its duration + upload slack.
import { checkChallengeUse } from '../../../liveness/index.ts';
import type { Challenge, LivenessWarning } from '../../../liveness/index.ts';
import { livenessWarning } from '../../../liveness/index.ts';
import { ttlSeconds } from '../../durations.ts';
import { K } from '../../keys.ts';
import type { StepInput } from '../types.ts';

export type ChallengeUse = { ok: true; challenge: Challenge } | { ok: false; warning: LivenessWarning };

export async function useChallenge(input: StepInput, challengeId: string): Promise<ChallengeUse> {
  const ch = input.challenge;
  if (!ch || ch.method !== input.workflow.liveness!.method) {
    return { ok: false, warning: livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'no challenge was issued to this upload' }) };
  }
  // Store-backed and atomic: of two responses to one challenge (any instance), one is first.
  const first = await input.deps.store.setIfAbsent(K.challengeUsed(ch.id), 1, { ttl: ttlSeconds(Math.max(60_000, ch.expiresAt - Date.now() + 60_000)) });
  const use = checkChallengeUse(ch, { used: { has: () => !first, add: () => undefined }, now: Date.now(), responseId: challengeId });
  return use.ok ? { ok: true, challenge: ch } : { ok: false, warning: use.warning! };
}
