// The Didit Sessions API v3 contract as plain types (see ../../../shared/didit/CONTRACT.md).
// These are the shapes a producer (the embedded verifier) must emit in full. What a receiver
// accepts is deliberately looser and lives in schemas.ts, because the real service omits
// fields and adds new ones; a test checks every producer type passes its receiver schema.

export const SESSION_STATUSES = [
  'Not Started',
  'In Progress',
  'In Review',
  'Approved',
  'Declined',
  'Resubmitted',
  'Abandoned',
  'Expired',
  'Kyc Expired',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Statuses after which a session will not change again unless an operator calls update-status. */
export const FINAL_SESSION_STATUSES = ['Approved', 'Declined', 'Abandoned', 'Expired', 'Kyc Expired'] as const;

/** A session the real service hands back again when one with the same vendor_data is requested. */
export const UNFINISHED_SESSION_STATUSES = ['Not Started', 'In Progress', 'Resubmitted'] as const;

/** Statuses whose webhook carries a `decision`. */
export const DECISION_BEARING_STATUSES = ['Approved', 'Declined', 'In Review', 'Abandoned'] as const;

/** Per-feature status: a feature block can be unfinished while the session is already final. */
export const FEATURE_STATUSES = ['Approved', 'Declined', 'In Review', 'Not Finished'] as const;
export type FeatureStatus = (typeof FEATURE_STATUSES)[number];

export const FEATURES = ['LIVENESS', 'FACE_MATCH', 'IP_ANALYSIS'] as const;
export type Feature = (typeof FEATURES)[number];

export const LIVENESS_METHODS = ['PASSIVE', 'FLASHING', 'ACTIVE_3D'] as const;
export type LivenessMethod = (typeof LIVENESS_METHODS)[number];

export const WORKFLOW_TYPES = ['kyc', 'biometric_authentication'] as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[number];

export const LOG_TYPES = ['information', 'warning', 'error'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export const CALLBACK_METHODS = ['initiator', 'completer', 'both'] as const;
export type CallbackMethod = (typeof CALLBACK_METHODS)[number];

/** The only statuses an operator (or API client) may set by hand. */
export const UPDATABLE_STATUSES = ['Approved', 'Declined', 'Resubmitted'] as const;
export type UpdatableStatus = (typeof UPDATABLE_STATUSES)[number];

/** Statuses from which update-status is allowed. */
export const UPDATE_STATUS_FROM = ['Approved', 'Declined', 'In Review', 'Kyc Expired', 'Abandoned', 'Resubmitted'] as const;

export const AUTO_DECLINE_RISKS = ['FACE_IN_BLOCKLIST', 'NO_FACE_DETECTED', 'MULTIPLE_FACES', 'LIVENESS_FACE_ATTACK', 'NO_REFERENCE_IMAGE'] as const;
export const THRESHOLD_RISKS = ['LOW_LIVENESS_SCORE', 'LOW_FACE_MATCH_SIMILARITY'] as const;

export const WEBHOOK_TYPE = 'status.updated';
export type WebhookType = typeof WEBHOOK_TYPE;

/** 1 MiB of decoded JPEG; the real service refuses larger portraits. */
export const PORTRAIT_IMAGE_MAX_BYTES = 1024 * 1024;

export type JsonObject = { [key: string]: unknown };

export type ContactDetails = {
  email?: string;
  send_notification_emails?: boolean;
  email_lang?: string;
  phone?: string;
};

export type ExpectedDetails = {
  first_name?: string;
  last_name?: string;
  date_of_birth?: string;
  [key: string]: unknown;
};

export type CreateSessionRequest = {
  workflow_id: string;
  vendor_data?: string;
  callback?: string;
  callback_method?: CallbackMethod;
  metadata?: JsonObject;
  language?: string;
  contact_details?: ContactDetails;
  expected_details?: ExpectedDetails;
  /** Base64 JPEG, at most PORTRAIT_IMAGE_MAX_BYTES decoded: the reference face for FACE_MATCH. */
  portrait_image?: string;
  /** Belongs to the workflow; clients may still send it and the service ignores it. */
  workflow_type?: WorkflowType;
};

export type CreateSessionResponse = {
  session_id: string;
  session_number: number;
  session_token: string;
  vendor_data: string | null;
  metadata: JsonObject | null;
  status: SessionStatus;
  workflow_id: string;
  callback: string | null;
  /** The hosted capture page; the decision and webhook call the same value `session_url`. */
  url: string;
};

export type Warning = {
  feature: Feature;
  risk: string;
  additional_data: JsonObject | null;
  log_type: LogType;
  short_description: string;
  long_description: string;
  node_id: string;
};

export type LivenessCheck = {
  node_id: string;
  status: FeatureStatus;
  method: LivenessMethod;
  /** 0–100; null when no face was found. */
  score: number | null;
  /** Media fields are URLs only when the workflow retains media. */
  reference_image: string | null;
  video_url: string | null;
  age_estimation: number | null;
  face_quality: number | null;
  face_luminance: number | null;
  warnings: Warning[];
};

export type FaceMatch = {
  node_id: string;
  status: FeatureStatus;
  /** 0–100 similarity; null when either face is missing. */
  score: number | null;
  source_image_session_id: string | null;
  source_image: string | null;
  target_image: string | null;
  warnings: Warning[];
};

export type IpAnalysis = {
  node_id: string;
  status: FeatureStatus;
  ip_address: string | null;
  browser_family: string | null;
  os_family: string | null;
  /** Device type as parsed from the user agent: mobile, tablet, desktop, ... */
  platform: string | null;
  device_brand: string | null;
  device_model: string | null;
  ip_country_code: string | null;
  /** null until VPN/Tor/data-centre detection exists. */
  is_vpn_or_tor: boolean | null;
  is_data_center: boolean | null;
  warnings: Warning[];
};

export type Review = {
  user: string;
  new_status: SessionStatus;
  comment: string | null;
  created_at: string;
};

export type Decision = {
  session_id: string;
  session_number: number;
  session_url: string;
  status: SessionStatus;
  workflow_id: string;
  features: Feature[];
  vendor_data: string | null;
  metadata: JsonObject | null;
  callback: string | null;
  /** ISO 8601. */
  created_at: string;
  expires_at: string;
  reviews: Review[];
  /** Each feature block is null until that step ran. */
  liveness_checks: LivenessCheck[] | null;
  face_matches: FaceMatch[] | null;
  ip_analyses: IpAnalysis[] | null;
};

export type UpdateStatusRequest = {
  new_status: UpdatableStatus;
  comment?: string;
};

export type UpdateStatusResponse = {
  session_id: string;
};

/**
 * POST /v3/blocklist/add/: put what a session showed on the blocklist. This verifier has faces
 * only (no documents, phones or e-mails), so `blocklist_face` is the one it acts on.
 */
export type BlocklistAddRequest = {
  session_id: string;
  blocklist_face?: boolean;
  blocklist_document?: boolean;
  blocklist_phone?: boolean;
  blocklist_email?: boolean;
};

/** POST /v3/blocklist/remove/: take a session's items off the blocklist. */
export type BlocklistRemoveRequest = {
  session_id: string;
  unblock_face?: boolean;
  unblock_document?: boolean;
  unblock_phone?: boolean;
  unblock_email?: boolean;
};

/** Both blocklist endpoints answer 200 with a message ("Successfully updated blocklist."). */
export type BlocklistUpdateResponse = { message: string };

/** GET /v3/blocklist/ (this verifier's extension, not in Didit's API): the blocklisted faces. */
export type BlocklistEntry = {
  entry_id: string;
  /** The session the face came from; null once its account was erased. */
  session_id: string | null;
  vendor_data: string | null;
  created_at: string;
};
export type BlocklistList = { count: number; results: BlocklistEntry[] };

export type ListSessionsQuery = {
  vendor_data?: string;
  status?: SessionStatus;
  workflow_id?: string;
  offset?: number;
  limit?: number;
};

export type SessionSummary = {
  session_id: string;
  session_number: number;
  session_url: string;
  status: SessionStatus;
  workflow_id: string;
  vendor_data: string | null;
  created_at: string;
  features: { feature: Feature; status: FeatureStatus }[];
};

export type SessionList = {
  count: number;
  next: string | null;
  previous: string | null;
  results: SessionSummary[];
};

export type WebhookEnvelope = {
  event_id: string;
  webhook_type: WebhookType;
  /** Unix seconds when this delivery was signed; also sent as X-Timestamp. */
  timestamp: number;
  /** Unix seconds when the status change happened. */
  created_at: number;
  application_id: string;
  environment: 'live' | 'sandbox';
  session_id: string;
  status: SessionStatus;
  workflow_id: string;
  workflow_version: number;
  vendor_data: string | null;
  metadata: JsonObject | null;
  /** Present on Approved, Declined, In Review and Abandoned. */
  decision?: Decision;
};
