// What a feature step gets and gives. A step turns one capture (and its face analysis) into the
// feature's block of the decision; the capture pipeline runs the workflow's steps in order.
import type { FeatureStatus } from '../../didit/index.ts';
import type { FaceAnalysis } from '../../face/index.ts';
import type { Challenge } from '../../liveness/index.ts';
import type { VerifierDeps } from '../deps.ts';
import type { SessionRecord } from '../sessions/types.ts';
import type { Thresholds, Workflow } from '../workflows.ts';
import type { CameraReport } from './liveness/camera.ts';

/** One JPEG frame of a PASSIVE burst (`t` in ms from its first frame) or of a challenge recording (from the challenge's start). */
export type BurstFrame = { bytes: Buffer; t: number };

/**
 * What the hosted page uploaded: the still (what the face engine analyses) and, for workflows with
 * LIVENESS, the PASSIVE burst recorded around it (`captureIndex` = the frame taken with the still)
 * or the recording of a FLASHING / ACTIVE_3D challenge (naming the challenge it answers).
 * Held in memory only, for the request's lifetime.
 */
export type Capture = {
  image: Buffer;
  /** challengeId: the screen-light challenge the burst answers (PASSIVE with screen light). */
  burst?: { frames: BurstFrame[]; captureIndex: number; challengeId?: string };
  recording?: { frames: BurstFrame[]; challengeId: string };
  /** What the page reported of its camera (multipart uploads only); absent: no camera behind it. */
  camera?: CameraReport;
};

export type StepInput = {
  deps: Pick<VerifierDeps, 'store' | 'config' | 'face' | 'ipLists'>;
  session: SessionRecord;
  workflow: Workflow;
  capture: Capture;
  /** The FLASHING / ACTIVE_3D / PASSIVE screen-light challenge the server issued to this upload's grant, if any. */
  challenge?: Challenge | undefined;
  analysis: FaceAnalysis;
  client: { ip: string | null; userAgent: string | null };
  /** URLs of retained media, null when the workflow does not retain media. */
  media: { capture: string | null; reference: string | null };
};

export type FeatureBlocks = Pick<SessionRecord, 'liveness_checks' | 'face_matches' | 'ip_analyses' | 'liveness_signals'>;

/** Above review → Approved; above decline → In Review; otherwise Declined. */
export function statusFor(score: number, t: Thresholds): FeatureStatus {
  if (score > t.review_threshold) return 'Approved';
  if (score > t.decline_threshold) return 'In Review';
  return 'Declined';
}

/** A risk the workflow auto-declines on declines; any other risk asks for a review. */
export function statusForRisk(workflow: Workflow, risk: string): FeatureStatus {
  return workflow.auto_decline.includes(risk) ? 'Declined' : 'In Review';
}
