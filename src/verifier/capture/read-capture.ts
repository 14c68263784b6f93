// Step 2: the body, held in memory only. Either one JPEG of at most 1 MB (workflows without
// LIVENESS), or multipart/form-data with the still and the PASSIVE burst (read-burst.ts).
import type { Context } from 'koa';
import { readRawBody } from '../../http/body.ts';
import { PORTRAIT_IMAGE_MAX_BYTES } from '../../didit/index.ts';
import { ApiError } from '../http/errors.ts';
import type { Capture } from '../steps/types.ts';
import { BURST_BODY_MAX_BYTES, isJpeg, parseBurstUpload } from './read-burst.ts';

export async function readCapture(ctx: Context): Promise<Capture> {
  if (ctx.is('multipart/form-data')) return parseBurstUpload(await readRawBody(ctx, BURST_BODY_MAX_BYTES), ctx.get('content-type'));
  if (!ctx.is('image/jpeg')) throw new ApiError(415, { outcome: 'error', detail: 'The capture must be sent as image/jpeg or multipart/form-data.' });
  const image = await readRawBody(ctx, PORTRAIT_IMAGE_MAX_BYTES);
  if (!isJpeg(image)) throw new ApiError(400, { outcome: 'error', detail: 'The capture is not a JPEG image.' });
  return { image };
}
