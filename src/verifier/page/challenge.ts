// POST /session/<token>/challenge — the page asks for its FLASHING colour sequence, ACTIVE_3D
// head-turn order or PASSIVE screen-light pattern when the user starts. The server chooses it (crypto-random), binds it to this
// page load's upload grant (one challenge per grant, never replaced) and stamps the time: the
// recording must reach the capture endpoint within the challenge's duration + slack of now.
// The grant is only read here; the upload uses it up (with the challenge).
import type { Context } from 'koa';
import { challengeDurationMs, CHALLENGE_DEFAULTS, createChallenge, publicChallenge } from '../../liveness/index.ts';
import { grantIdOf, sessionForGrant, STALE } from '../capture/claim-upload.ts';
import type { Json } from '../../store/index.ts';
import type { UploadGrant } from '../capture/upload-grant.ts';
import type { VerifierDeps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { K } from '../keys.ts';
import { livenessMethodOf, usesChallenge } from '../workflows.ts';

export function issueChallenge(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const grantId = grantIdOf(ctx);
    const grant = await deps.store.get<UploadGrant>(K.upload(grantId));
    const { workflow } = await sessionForGrant(deps, ctx, grantId, grant);
    const method = livenessMethodOf(workflow);
    // PASSIVE only with screen light (the workflow's liveness.screen_light, on by default).
    if (!method || !usesChallenge(workflow)) {
      throw new ApiError(400, { outcome: 'error', detail: 'This verification does not use a liveness challenge.' });
    }
    const challenge = createChallenge(method);
    const ttl = Math.ceil((challengeDurationMs(challenge) + CHALLENGE_DEFAULTS.uploadSlackMs) / 1000) + 60;
    // A second request for the same page load would let a client pick among challenges: refused.
    if (!(await deps.store.setIfAbsent(K.challenge(grantId), challenge as unknown as Json, { ttl }))) throw STALE();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { challenge: publicChallenge(challenge) };
  };
}
