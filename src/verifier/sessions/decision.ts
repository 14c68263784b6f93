// The API's views of a session record: the create response, the decision and the list summary.
// Field names and null-until-run semantics follow the v3 contract exactly.
import type { CreateSessionResponse, Decision, SessionSummary } from '../../didit/index.ts';
import type { SessionRecord } from './types.ts';

export function sessionUrl(publicUrl: string, record: Pick<SessionRecord, 'session_token'>): string {
  return `${publicUrl}/session/${record.session_token}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function toCreateResponse(publicUrl: string, r: SessionRecord): CreateSessionResponse {
  return {
    session_id: r.session_id,
    session_number: r.session_number,
    session_token: r.session_token,
    vendor_data: r.vendor_data,
    metadata: r.metadata,
    status: r.status,
    workflow_id: r.workflow_id,
    callback: r.callback,
    url: sessionUrl(publicUrl, r),
  };
}

export function toDecision(publicUrl: string, r: SessionRecord): Decision {
  return {
    session_id: r.session_id,
    session_number: r.session_number,
    session_url: sessionUrl(publicUrl, r),
    status: r.status,
    workflow_id: r.workflow_id,
    features: r.features,
    vendor_data: r.vendor_data,
    metadata: r.metadata,
    callback: r.callback,
    created_at: iso(r.created_at),
    expires_at: iso(r.expires_at),
    reviews: r.reviews,
    liveness_checks: r.liveness_checks,
    face_matches: r.face_matches,
    ip_analyses: r.ip_analyses,
  };
}

export function toSummary(publicUrl: string, r: SessionRecord): SessionSummary {
  const blocks = { LIVENESS: r.liveness_checks, FACE_MATCH: r.face_matches, IP_ANALYSIS: r.ip_analyses } as const;
  return {
    session_id: r.session_id,
    session_number: r.session_number,
    session_url: sessionUrl(publicUrl, r),
    status: r.status,
    workflow_id: r.workflow_id,
    vendor_data: r.vendor_data,
    created_at: iso(r.created_at),
    features: r.features.map((feature) => ({ feature, status: blocks[feature]?.[0]?.status ?? 'Not Finished' })),
  };
}
