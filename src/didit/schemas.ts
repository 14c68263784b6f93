// zod schemas for everything that crosses the wire into our code.
//
// Requests the verifier receives (create, update-status) are strict about the fields they know
// and strip the rest, so a 400 names the offending field like the real service does.
// Responses and webhooks the IdP receives are lenient: unknown fields pass through, most
// fields are optional, and free-form names (feature, risk) are plain strings, because the real
// service sends blocks for features we never configure (ID_VERIFICATION, AML, ...) and a
// verdict must not be lost over a field we do not read. Only what a receiver branches on
// (session status, webhook type, ids, timestamps) is required and checked exactly.
import { z } from 'zod';
import {
  CALLBACK_METHODS,
  FEATURE_STATUSES,
  LIVENESS_METHODS,
  LOG_TYPES,
  PORTRAIT_IMAGE_MAX_BYTES,
  SESSION_STATUSES,
  UPDATABLE_STATUSES,
  WEBHOOK_TYPE,
} from './types.ts';

const sessionStatus = z.enum(SESSION_STATUSES);
const featureStatus = z.enum(FEATURE_STATUSES);
const jsonObject = z.record(z.string(), z.unknown());

// Some clients send metadata as a JSON-encoded string (Didit's own docs show both).
const metadataInput = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}, jsonObject);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodedBase64Length(s: string): number {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - padding;
}

// A data: URL prefix is refused on purpose: the real service wants bare base64, and accepting
// more here would let the IdP pass against the embedded verifier and fail against Didit.
const portraitImage = z
  .string()
  .min(1, 'Portrait image is empty.')
  .refine((s) => s.length % 4 === 0 && BASE64.test(s), 'Portrait image must be base64 encoded.')
  .refine((s) => decodedBase64Length(s) <= PORTRAIT_IMAGE_MAX_BYTES, 'Portrait image must be at most 1 MB.');

export const createSessionRequestSchema = z.object({
  workflow_id: z.string().min(1),
  vendor_data: z.string().max(1024).optional(),
  callback: z.url({ protocol: /^https?$/ }).optional(),
  callback_method: z.enum(CALLBACK_METHODS).optional(),
  metadata: metadataInput.optional(),
  language: z
    .string()
    .regex(/^[a-z]{2}(-[A-Za-z0-9]{2,4})?$/, 'Language must be an ISO 639-1 code.')
    .optional(),
  contact_details: z
    .object({
      email: z.email().optional(),
      send_notification_emails: z.boolean().optional(),
      email_lang: z.string().optional(),
      phone: z.string().optional(),
    })
    .optional(),
  expected_details: z
    .looseObject({
      first_name: z.string().optional(),
      last_name: z.string().optional(),
      date_of_birth: z.iso.date().optional(),
    })
    .optional(),
  portrait_image: portraitImage.optional(),
  // Belongs to the workflow; accepted and ignored, as the real service does.
  workflow_type: z.string().optional(),
});
export type CreateSessionInput = z.output<typeof createSessionRequestSchema>;

export const updateStatusRequestSchema = z.object({
  new_status: z.enum(UPDATABLE_STATUSES),
  comment: z.string().max(2000).optional(),
});
export type UpdateStatusInput = z.output<typeof updateStatusRequestSchema>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const sessionIdField = z.string({ error: 'This field is required.' }).regex(UUID_RE, 'Must be a valid UUID.');

/** The verifier's check of a blocklist/add body (Didit's fields; only faces exist here). */
export const blocklistAddRequestSchema = z.object({
  session_id: sessionIdField,
  blocklist_face: z.boolean().default(false),
  blocklist_document: z.boolean().optional(),
  blocklist_phone: z.boolean().optional(),
  blocklist_email: z.boolean().optional(),
});
export type BlocklistAddInput = z.output<typeof blocklistAddRequestSchema>;

export const blocklistRemoveRequestSchema = z.object({
  session_id: sessionIdField,
  unblock_face: z.boolean().default(false),
  unblock_document: z.boolean().optional(),
  unblock_phone: z.boolean().optional(),
  unblock_email: z.boolean().optional(),
});
export type BlocklistRemoveInput = z.output<typeof blocklistRemoveRequestSchema>;

export const warningSchema = z.looseObject({
  feature: z.string().optional(),
  risk: z.string(),
  additional_data: z.unknown().optional(),
  log_type: z.enum(LOG_TYPES).optional(),
  short_description: z.string().optional(),
  long_description: z.string().optional(),
  node_id: z.string().nullable().optional(),
});

// 0–100 by contract, but not enforced: a verdict must not be refused over a score's range.
const score = z.number().nullable().optional();
const mediaUrl = z.string().nullable().optional();
const warnings = z.array(warningSchema).optional();

export const livenessCheckSchema = z.looseObject({
  node_id: z.string().optional(),
  status: featureStatus.optional(),
  method: z.enum(LIVENESS_METHODS).optional(),
  score,
  reference_image: mediaUrl,
  video_url: mediaUrl,
  age_estimation: z.number().nullable().optional(),
  face_quality: z.number().nullable().optional(),
  face_luminance: z.number().nullable().optional(),
  warnings,
});

export const faceMatchSchema = z.looseObject({
  node_id: z.string().optional(),
  status: featureStatus.optional(),
  score,
  source_image_session_id: z.string().nullable().optional(),
  source_image: mediaUrl,
  target_image: mediaUrl,
  warnings,
});

export const ipAnalysisSchema = z.looseObject({
  node_id: z.string().optional(),
  status: featureStatus.optional(),
  ip_address: z.string().nullable().optional(),
  browser_family: z.string().nullable().optional(),
  os_family: z.string().nullable().optional(),
  platform: z.string().nullable().optional(),
  is_vpn_or_tor: z.boolean().nullable().optional(),
  is_data_center: z.boolean().nullable().optional(),
  warnings,
});

export const decisionSchema = z.looseObject({
  session_id: z.string().min(1),
  status: sessionStatus,
  session_number: z.number().optional(),
  session_url: z.string().optional(),
  workflow_id: z.string().optional(),
  features: z.array(z.string()).optional(),
  vendor_data: z.string().nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  callback: z.string().nullable().optional(),
  created_at: z.string().optional(),
  expires_at: z.string().optional(),
  reviews: z.array(z.looseObject({})).optional(),
  liveness_checks: z.array(livenessCheckSchema).nullable().optional(),
  face_matches: z.array(faceMatchSchema).nullable().optional(),
  ip_analyses: z.array(ipAnalysisSchema).nullable().optional(),
  warnings,
});
export type ReceivedDecision = z.output<typeof decisionSchema>;

export const webhookEnvelopeSchema = z.looseObject({
  event_id: z.string().min(1),
  webhook_type: z.literal(WEBHOOK_TYPE),
  timestamp: z.number().int(),
  created_at: z.number(),
  session_id: z.string().min(1),
  status: sessionStatus,
  workflow_id: z.string(),
  vendor_data: z.string().nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  decision: decisionSchema.optional(),
  application_id: z.string().optional(),
  environment: z.string().optional(),
  workflow_version: z.number().optional(),
});
export type ReceivedWebhook = z.output<typeof webhookEnvelopeSchema>;

export const createSessionResponseSchema = z.looseObject({
  session_id: z.string().min(1),
  session_number: z.number().optional(),
  session_token: z.string().optional(),
  vendor_data: z.string().nullable().optional(),
  metadata: jsonObject.nullable().optional(),
  status: sessionStatus,
  workflow_id: z.string().optional(),
  callback: z.string().nullable().optional(),
  url: z.string().min(1),
});
export type ReceivedCreateSession = z.output<typeof createSessionResponseSchema>;

export const updateStatusResponseSchema = z.looseObject({
  session_id: z.string().min(1),
});
export type ReceivedUpdateStatus = z.output<typeof updateStatusResponseSchema>;

export const blocklistUpdateResponseSchema = z.looseObject({
  message: z.string(),
});
export type ReceivedBlocklistUpdate = z.output<typeof blocklistUpdateResponseSchema>;

export const blocklistListSchema = z.looseObject({
  count: z.number(),
  results: z.array(
    z.looseObject({
      entry_id: z.string().min(1),
      session_id: z.string().nullable(),
      vendor_data: z.string().nullable(),
      created_at: z.string(),
    }),
  ),
});
export type ReceivedBlocklistList = z.output<typeof blocklistListSchema>;

export const sessionListSchema = z.looseObject({
  count: z.number(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(
    z.looseObject({
      session_id: z.string().min(1),
      status: sessionStatus,
      session_number: z.number().optional(),
      session_url: z.string().optional(),
      workflow_id: z.string().optional(),
      vendor_data: z.string().nullable().optional(),
      created_at: z.string().optional(),
      features: z.array(z.looseObject({ feature: z.string(), status: z.string().optional() })).optional(),
    }),
  ),
});
export type ReceivedSessionList = z.output<typeof sessionListSchema>;

/**
 * Field-keyed messages in the real service's 400 shape (`{"portrait_image": ["..."]}`);
 * problems not tied to a field go under `non_field_errors`, as Django REST framework does.
 */
export function toFieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : 'non_field_errors';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
