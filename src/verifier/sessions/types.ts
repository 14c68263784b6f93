// A verification session as the verifier keeps it. The API's shapes (create response, decision,
// list summary) are projections of this record (see decision.ts). Times are epoch milliseconds.
import type {
  CallbackMethod,
  ContactDetails,
  ExpectedDetails,
  Feature,
  FaceMatch,
  IpAnalysis,
  JsonObject,
  LivenessCheck,
  Review,
  SessionStatus,
  WorkflowType,
} from '../../didit/index.ts';

/** A sealed face template (never the image): the portrait_image a client sent, analysed at creation. */
export type SealedReference = { source: 'portrait_image'; sealed: unknown };

export type SessionRecord = {
  session_id: string;
  session_number: number;
  session_token: string;
  workflow_id: string;
  workflow_version: number;
  workflow_type: WorkflowType;
  features: Feature[];
  vendor_data: string | null;
  metadata: JsonObject | null;
  callback: string | null;
  callback_method: CallbackMethod;
  language: string | null;
  contact_details: ContactDetails | null;
  expected_details: ExpectedDetails | null;
  status: SessionStatus;
  created_at: number;
  expires_at: number;
  /** When the hosted page was first opened in this attempt (starts the capture window). */
  opened_at: number | null;
  completed_at: number | null;
  reference: SealedReference | null;
  /** The one live upload grant (a page load); a newer page load replaces it. */
  upload_id: string | null;
  /** Captures refused for quality in this attempt. */
  capture_attempts: number;
  liveness_checks: LivenessCheck[] | null;
  face_matches: FaceMatch[] | null;
  /**
   * The applicable liveness signals' scores (0..1), for the operator's field calibration report
   * (`selfie-idp liveness report`). Not part of the decision; null until liveness ran, and on
   * records written before it existed.
   */
  liveness_signals?: Record<string, number> | null;
  ip_analyses: IpAnalysis[] | null;
  reviews: Review[];
  /** Names of retained media (only when the workflow retains media). */
  media: string[];
  /**
   * A kyc capture that went to review: its sealed template waits here so an operator's approval
   * can enrol it (the image itself is gone). Cleared on enrolment or any other final status.
   */
  pending_template: string | null;
  /**
   * The face this session's last judged capture showed, sealed like a template (never the image):
   * what POST /v3/blocklist/add/ blocklists. Erased with the session; absent on older records.
   */
  face_template?: string | null;
};

/** Statuses in which the hosted page takes a capture. */
export const CAPTURABLE: readonly SessionStatus[] = ['Not Started', 'In Progress', 'Resubmitted'];
