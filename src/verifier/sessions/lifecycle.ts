// The session lifecycle as pure rules: each function takes a record and the time and returns the
// changed record, or undefined when the rule does not apply (so a late timer is a no-op).
//
//   Not Started ──page opened──▶ In Progress ──capture──▶ Approved | Declined | In Review
//        │                          │
//        └─never opened by expiry─▶ Expired      └─capture window over─▶ Abandoned
//   Approved | Declined | In Review | Abandoned | Resubmitted | Kyc Expired ──operator──▶ Approved | Declined | Resubmitted
//   Resubmitted ──page opened──▶ In Progress (the failed step runs again)
import { UPDATE_STATUS_FROM } from '../../didit/index.ts';
import type { SessionStatus, UpdatableStatus } from '../../didit/index.ts';
import type { SessionRecord } from './types.ts';

const is = (r: SessionRecord, ...statuses: SessionStatus[]) => statuses.includes(r.status);

/** The hosted page was opened: starts (or restarts, after Resubmitted) the capture window. */
export function openPage(r: SessionRecord, now: number): SessionRecord | undefined {
  if (is(r, 'Not Started', 'Resubmitted') && r.expires_at <= now) return { ...r, status: 'Expired' };
  if (!is(r, 'Not Started', 'Resubmitted')) return undefined;
  return { ...r, status: 'In Progress', opened_at: now, capture_attempts: 0 };
}

export function expire(r: SessionRecord, now: number): SessionRecord | undefined {
  if (!is(r, 'Not Started', 'Resubmitted') || r.expires_at > now) return undefined;
  return { ...r, status: 'Expired' };
}

export function captureWindowOver(r: SessionRecord, now: number, captureWindowMs: number): boolean {
  return r.status === 'In Progress' && r.opened_at !== null && r.opened_at + captureWindowMs <= now;
}

export function abandon(captureWindowMs: number) {
  return (r: SessionRecord, now: number): SessionRecord | undefined =>
    captureWindowOver(r, now, captureWindowMs) ? { ...r, status: 'Abandoned', completed_at: now } : undefined;
}

export type CaptureOutcome = Pick<SessionRecord, 'status' | 'liveness_checks' | 'liveness_signals' | 'face_matches' | 'ip_analyses' | 'media' | 'pending_template' | 'face_template'>;

/** A capture was judged. Only an open attempt can finish: a timer may have closed it meanwhile. */
export function complete(outcome: CaptureOutcome, captureWindowMs: number) {
  return (r: SessionRecord, now: number): SessionRecord | undefined => {
    if (r.status !== 'In Progress' || captureWindowOver(r, now, captureWindowMs)) return undefined;
    return { ...r, ...outcome, completed_at: now, upload_id: null };
  };
}

/** A capture was refused for quality: count it, keep the attempt open. */
export function countRefusedCapture(uploadId: string) {
  return (r: SessionRecord): SessionRecord | undefined =>
    r.status === 'In Progress' ? { ...r, capture_attempts: r.capture_attempts + 1, upload_id: uploadId } : undefined;
}

export class TransitionNotAllowed extends Error {
  readonly from: SessionStatus;
  constructor(from: SessionStatus, to: SessionStatus) {
    super(`cannot change a session from ${from} to ${to}`);
    this.from = from;
  }
}

/**
 * update-status by an API client (an operator's review). Resubmitted re-opens the capture with a
 * fresh expiry; the earlier results stay visible until the new capture replaces them.
 */
export function operatorUpdate(newStatus: UpdatableStatus, comment: string | undefined, user: string, sessionExpiryMs: number) {
  return (r: SessionRecord, now: number): SessionRecord => {
    if (!(UPDATE_STATUS_FROM as readonly string[]).includes(r.status)) throw new TransitionNotAllowed(r.status, newStatus);
    const review = { user, new_status: newStatus, comment: comment ?? null, created_at: new Date(now).toISOString() };
    // A kyc template waiting for this review survives only an approval (which enrols it).
    const pending_template = newStatus === 'Approved' ? r.pending_template : null;
    const next: SessionRecord = { ...r, status: newStatus, reviews: [...r.reviews, review], pending_template };
    if (newStatus === 'Resubmitted') return { ...next, expires_at: now + sessionExpiryMs, opened_at: null, completed_at: null, capture_attempts: 0 };
    return { ...next, completed_at: now };
  };
}
