// Step 4: with retain_media on, the capture is kept beside the session (and its URL goes into the
// decision); otherwise nothing is written and the bytes die with this request.
import type { VerifierDeps } from '../deps.ts';
import { mediaUrl, saveMedia } from '../media.ts';
import { recordTtlSeconds } from '../sessions/repo.ts';
import type { StepInput } from '../steps/types.ts';
import type { ClaimedUpload } from './claim-upload.ts';

export async function retainMedia(deps: VerifierDeps, claimed: ClaimedUpload, image: Buffer): Promise<{ media: string[]; urls: StepInput['media'] }> {
  const { record, workflow } = claimed;
  const url = (name: 'capture.jpg' | 'portrait.jpg') => mediaUrl(deps.config.publicUrl, record.session_id, name);
  const reference = record.media.includes('portrait.jpg') ? url('portrait.jpg') : null;
  if (!workflow.retain_media) return { media: record.media, urls: { capture: null, reference } };
  await saveMedia(deps.store, record.session_id, 'capture.jpg', image, recordTtlSeconds(record, deps.config.sessionRetentionMs));
  return { media: [...new Set([...record.media, 'capture.jpg'])], urls: { capture: url('capture.jpg'), reference } };
}
