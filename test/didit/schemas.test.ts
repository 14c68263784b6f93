import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  PORTRAIT_IMAGE_MAX_BYTES,
  SESSION_STATUSES,
  createSessionRequestSchema,
  decisionSchema,
  toFieldErrors,
  updateStatusRequestSchema,
  webhookEnvelopeSchema,
  type Decision,
  type ReceivedDecision,
  type ReceivedWebhook,
  type WebhookEnvelope,
} from '../../src/didit/index.ts';

const warning = {
  feature: 'LIVENESS',
  risk: 'LOW_LIVENESS_SCORE',
  additional_data: null,
  log_type: 'warning',
  short_description: 'Low liveness score',
  long_description: 'The liveness score is between the decline and review thresholds.',
  node_id: 'liveness_1',
} as const;

const decision: Decision = {
  session_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  session_number: 1,
  session_url: 'http://localhost:3000/session/tok',
  status: 'In Review',
  workflow_id: 'wf',
  features: ['LIVENESS', 'FACE_MATCH', 'IP_ANALYSIS'],
  vendor_data: 'acct-1',
  metadata: {},
  callback: null,
  created_at: '2026-11-26T10:00:00Z',
  expires_at: '2026-12-03T10:00:00Z',
  reviews: [],
  liveness_checks: [
    {
      node_id: 'liveness_1',
      status: 'In Review',
      method: 'PASSIVE',
      score: 61,
      reference_image: null,
      video_url: null,
      age_estimation: 31.2,
      face_quality: 88,
      face_luminance: 61,
      warnings: [warning],
    },
  ],
  face_matches: [
    { node_id: 'face_match_1', status: 'Approved', score: 94.3, source_image_session_id: null, source_image: null, target_image: null, warnings: [] },
  ],
  ip_analyses: [
    {
      node_id: 'ip_analysis_1',
      status: 'Approved',
      ip_address: '127.0.0.1',
      browser_family: 'Chrome',
      os_family: 'Linux',
      platform: 'desktop',
      device_brand: null,
      device_model: null,
      ip_country_code: null,
      is_vpn_or_tor: null,
      is_data_center: null,
      warnings: [],
    },
  ],
};

const envelope: WebhookEnvelope = {
  event_id: '9c0c8b8a-1111-4222-9333-444444444444',
  webhook_type: 'status.updated',
  timestamp: 1774970000,
  created_at: 1774969994,
  application_id: 'app',
  environment: 'live',
  session_id: decision.session_id,
  status: 'In Review',
  workflow_id: 'wf',
  workflow_version: 1,
  vendor_data: 'acct-1',
  metadata: null,
  decision,
};

describe('producer types fit receiver schemas', () => {
  it('at the type level', () => {
    expectTypeOf<Decision>().toExtend<ReceivedDecision>();
    expectTypeOf<WebhookEnvelope>().toExtend<ReceivedWebhook>();
  });

  it('at run time, unchanged', () => {
    expect(decisionSchema.parse(decision)).toEqual(decision);
    expect(webhookEnvelopeSchema.parse(envelope)).toEqual(envelope);
  });

  it('refuses an unknown session status and a missing event id', () => {
    expect(decisionSchema.safeParse({ ...decision, status: 'Done' }).success).toBe(false);
    expect(webhookEnvelopeSchema.safeParse({ ...envelope, event_id: undefined }).success).toBe(false);
    for (const status of SESSION_STATUSES) expect(decisionSchema.safeParse({ ...decision, status }).success).toBe(true);
  });

  it('accepts blocks for features it does not model (real-service KYC)', () => {
    const kyc = { ...decision, features: ['ID_VERIFICATION'], id_verifications: [{ status: 'Approved' }], warnings: [{ risk: 'X', feature: 'AML' }] };
    expect(decisionSchema.parse(kyc)).toMatchObject({ id_verifications: [{ status: 'Approved' }] });
  });
});

describe('createSessionRequestSchema', () => {
  const base64Of = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');

  it('accepts the documented fields and strips unknown ones', () => {
    const parsed = createSessionRequestSchema.parse({
      workflow_id: 'wf',
      vendor_data: 'acct-1',
      callback: 'https://idp.example/reauth/callback',
      callback_method: 'both',
      metadata: '{"purpose":"login"}',
      language: 'id',
      contact_details: { email: 'a@example.com' },
      expected_details: { first_name: 'A', date_of_birth: '1990-01-31', nationality: 'IDN' },
      portrait_image: base64Of(PORTRAIT_IMAGE_MAX_BYTES),
      workflow_type: 'biometric_authentication',
      surprise: 1,
    });
    expect(parsed.metadata).toEqual({ purpose: 'login' });
    expect(parsed.expected_details).toMatchObject({ nationality: 'IDN' });
    expect(parsed).not.toHaveProperty('surprise');
  });

  it('gives field-keyed errors for what the verifier must refuse', () => {
    const result = createSessionRequestSchema.safeParse({
      callback: 'javascript:alert(1)',
      language: 'english',
      contact_details: { email: 'nope' },
      portrait_image: base64Of(PORTRAIT_IMAGE_MAX_BYTES + 1),
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(Object.keys(toFieldErrors(result.error)).sort()).toEqual(['callback', 'contact_details.email', 'language', 'portrait_image', 'workflow_id']);
    expect(toFieldErrors(result.error).portrait_image).toEqual(['Portrait image must be at most 1 MB.']);
  });

  it('refuses non-base64 portraits and data URLs', () => {
    for (const portrait_image of ['not base64!', 'data:image/jpeg;base64,/9j/4AAQ', 'abc']) {
      expect(createSessionRequestSchema.safeParse({ workflow_id: 'wf', portrait_image }).success).toBe(false);
    }
  });

  it('puts errors of a non-object body under non_field_errors', () => {
    const result = createSessionRequestSchema.safeParse([]);
    expect(result.success || toFieldErrors(result.error)).toHaveProperty('non_field_errors');
  });
});

describe('updateStatusRequestSchema', () => {
  it('allows only Approved, Declined and Resubmitted', () => {
    expect(updateStatusRequestSchema.parse({ new_status: 'Declined', comment: 'spoof' })).toEqual({ new_status: 'Declined', comment: 'spoof' });
    expect(updateStatusRequestSchema.parse({ new_status: 'Resubmitted' })).toEqual({ new_status: 'Resubmitted' });
    expect(updateStatusRequestSchema.safeParse({ new_status: 'In Review' }).success).toBe(false);
  });
});
