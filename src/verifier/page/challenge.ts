// POST /session/<token>/challenge — the page asks for its FLASHING colour sequence, ACTIVE_3D
// head-turn order or PASSIVE screen-light pattern when the user starts. The server chooses it (crypto-random), binds it to this
// page load's upload grant (one challenge per grant, never replaced) and stamps the time: the
// recording must reach the capture endpoint within the challenge's duration + slack of now.
// The grant is only read here; the upload uses it up (with the challenge).
import type { Context } from 'koa';
import { challengeDurationMs, CHALLENGE_DEFAULTS, CHALLENGES_PER_SESSION, createChallenge, publicChallenge } from '../../liveness/index.ts';
import { grantIdOf, sessionForGrant, STALE } from '../capture/claim-upload.ts';
import type { Json } from '../../store/index.ts';
import type { UploadGrant } from '../capture/upload-grant.ts';
import type { VerifierDeps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { K } from '../keys.ts';
import { livenessMethodOf, usesChallenge, type Workflow } from '../workflows.ts';

/**
 * Challenges one session may issue: one per capture attempt the workflow allows, and never more
 * than CHALLENGES_PER_SESSION (3), the number the per-challenge chance bound is split over: a
 * workflow allowing more capture attempts must not multiply a recording's chance.
 */
export function maxChallenges(workflow: Workflow): number {
  return Math.min(workflow.max_capture_attempts, CHALLENGES_PER_SESSION);
}

export function issueChallenge(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const grantId = grantIdOf(ctx);
    const grant = await deps.store.get<UploadGrant>(K.upload(grantId));
    const { record, workflow } = await sessionForGrant(deps, ctx, grantId, grant);
    const method = livenessMethodOf(workflow);
    // PASSIVE only with screen light (the workflow's liveness.screen_light, on by default).
    if (!method || !usesChallenge(workflow)) {
      throw new ApiError(400, { outcome: 'error', detail: 'This verification does not use a liveness challenge.' });
    }
    const challenge = createChallenge(method);
    const ttl = Math.ceil((challengeDurationMs(challenge) + CHALLENGE_DEFAULTS.uploadSlackMs) / 1000) + 60;
    // A second request for the same page load would let a client pick among challenges: refused.
    if (!(await deps.store.setIfAbsent(K.challenge(grantId), challenge as unknown as Json, { ttl }))) throw STALE();
    // Each page load gets its own grant, so a client could still reload for new challenges, hold
    // each against a recording it has (the signals are open source) and answer only the one that
    // fits: every challenge seen is another chance (docs/liveness.md, "Chance acceptance of a
    // recording"). So a session issues at most as many challenges as it allows capture attempts:
    // a person who is refused gets a challenge per attempt, and no more.
    const issued = await deps.store.incr(K.challengesIssued(record.session_id), { ttl: Math.ceil(deps.config.captureWindowMs / 1000) + 60 });
    if (issued > maxChallenges(workflow)) {
      await deps.store.delete(K.challenge(grantId));
      // the page shows its "expired, start again" screen for this outcome
      throw new ApiError(429, { outcome: 'expired', detail: 'This verification has issued all the liveness challenges it allows; start a new one.' });
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { challenge: publicChallenge(challenge) };
  };
}
