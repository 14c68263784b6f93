// Step 2: the body, held in memory only. Either one JPEG of at most 1 MB (workflows without
// LIVENESS), or multipart/form-data with the still and the frames the workflow's liveness method
// records: the PASSIVE burst (with screen light: shaped as its challenge asks) or the FLASHING /
// ACTIVE_3D challenge recording (read-frames.ts).
import type { Context } from 'koa';
import { readRawBody } from '../../http/body.ts';
import { PORTRAIT_IMAGE_MAX_BYTES } from '../../didit/index.ts';
import { ApiError } from '../http/errors.ts';
import type { Capture } from '../steps/types.ts';
import { CHALLENGE_DEFAULTS, type Challenge } from '../../liveness/index.ts';
import { usesChallenge, usesScreenLight, type Workflow } from '../workflows.ts';
import { isJpeg, parseFramesUpload } from './read-frames.ts';

export async function readCapture(ctx: Context, workflow: Workflow, challenge: Challenge | undefined): Promise<Capture> {
  if (ctx.is('multipart/form-data')) {
    if (usesScreenLight(workflow)) {
      // The challenge's burst shape; without an issued challenge the default one (the upload is declined anyway).
      const shape = challenge?.method === 'PASSIVE' ? challenge : CHALLENGE_DEFAULTS.screenLight;
      return parseFramesUpload(ctx.req, ctx.get('content-type'), 'burst', { frames: shape.frames, captureIndex: shape.captureIndex });
    }
    const shape = usesChallenge(workflow) ? 'recording' : 'burst';
    return parseFramesUpload(ctx.req, ctx.get('content-type'), shape);
  }
  if (!ctx.is('image/jpeg')) throw new ApiError(415, { outcome: 'error', detail: 'The capture must be sent as image/jpeg or multipart/form-data.' });
  const image = await readRawBody(ctx, PORTRAIT_IMAGE_MAX_BYTES);
  if (!isJpeg(image)) throw new ApiError(400, { outcome: 'error', detail: 'The capture is not a JPEG image.' });
  return { image };
}
