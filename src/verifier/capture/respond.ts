// Step 8: tell the page where to go. The callback gets `verificationSessionId` and `status` (a
// hint only: the webhook and the decision endpoint are authoritative). With callback_method
// "initiator" (the default) a phone that finished a hand-off does not redirect: the device that
// started does, by polling the status endpoint.
import type { SessionRecord } from '../sessions/types.ts';

export function callbackUrl(record: SessionRecord): string | null {
  if (!record.callback) return null;
  const url = new URL(record.callback);
  url.searchParams.set('verificationSessionId', record.session_id);
  url.searchParams.set('status', record.status);
  return url.toString();
}

export function redirectFor(record: SessionRecord, device: 'initiator' | 'completer'): string | null {
  const method = record.callback_method;
  if (device === 'initiator' && method === 'completer') return null;
  if (device === 'completer' && method === 'initiator') return null;
  return callbackUrl(record);
}

export type CaptureResponse = { outcome: 'complete'; status: string; redirect: string | null; handoff: boolean };

export function completeResponse(record: SessionRecord, handoff: boolean): CaptureResponse {
  // Capturing on the device that opened the session makes it both initiator and completer.
  const redirect = handoff ? redirectFor(record, 'completer') : callbackUrl(record);
  return { outcome: 'complete', status: record.status, redirect, handoff: handoff && redirect === null };
}
