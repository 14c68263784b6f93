// Step 3: a portrait_image is analysed now, while the client is still there to hear that it is not
// a JPEG or shows no face (400 on portrait_image), and only its sealed template is kept with the
// session: the image itself is dropped here unless the workflow retains media.
import { isFaceError, sealTemplate, enrolTemplate } from '../../../face/index.ts';
import type { VerifierDeps } from '../../deps.ts';
import { ApiError, fieldErrors } from '../../http/errors.ts';
import type { SealedReference } from '../../sessions/types.ts';
import type { Workflow } from '../../workflows.ts';

export type Portrait = { reference: SealedReference; image: Buffer };

const REFUSALS: Record<string, string> = {
  IMAGE_INVALID: 'Portrait image is not a valid image.',
  IMAGE_TOO_LARGE: 'Portrait image must be at most 1 MB.',
  NO_FACE_DETECTED: 'No face detected in the portrait image.',
  MULTIPLE_FACES: 'More than one face in the portrait image.',
  FACE_TOO_SMALL: 'The face in the portrait image is too small.',
  LOW_QUALITY: 'The face in the portrait image is not clear enough.',
};

export async function analysePortrait(deps: Pick<VerifierDeps, 'face' | 'config'>, base64: string | undefined, workflow: Workflow): Promise<Portrait | undefined> {
  // Nothing to match it against in this workflow: do not process a biometric for nothing.
  if (base64 === undefined || !workflow.features.includes('FACE_MATCH')) return undefined;
  const image = Buffer.from(base64, 'base64');
  if (!(image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff)) throw fieldErrors({ portrait_image: ['Portrait image must be a JPEG image.'] });
  try {
    // The reference is often an ID-style photo: no quality gate, the match threshold decides.
    const analysis = await deps.face.analyze(image, { qualityGate: false });
    return { reference: { source: 'portrait_image', sealed: sealTemplate(enrolTemplate([analysis]), deps.config.templateKeyring) }, image };
  } catch (err) {
    if (!isFaceError(err)) throw err;
    if (err.code === 'BUSY') throw new ApiError(503, 'The service is busy; try again shortly.', { 'Retry-After': '2' });
    const message = REFUSALS[err.code];
    if (!message) throw err;
    throw fieldErrors({ portrait_image: [message] });
  }
}
