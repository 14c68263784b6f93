// Step 2: the body is one JPEG of at most 1 MB, held in memory only.
import type { Context } from 'koa';
import { readRawBody } from '../../http/body.ts';
import { PORTRAIT_IMAGE_MAX_BYTES } from '../../didit/index.ts';
import { ApiError } from '../http/errors.ts';
import type { Capture } from '../steps/types.ts';

export async function readCapture(ctx: Context): Promise<Capture> {
  if (!ctx.is('image/jpeg')) throw new ApiError(415, { outcome: 'error', detail: 'The capture must be sent as image/jpeg.' });
  const image = await readRawBody(ctx, PORTRAIT_IMAGE_MAX_BYTES);
  if (!(image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff)) throw new ApiError(400, { outcome: 'error', detail: 'The capture is not a JPEG image.' });
  return { image };
}
