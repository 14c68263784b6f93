// The API's views of a session record: the create response, the decision and the list summary.
// Field names and null-until-run semantics follow the v3 contract exactly.
import type { CreateSessionResponse, Decision, SessionSummary } from '../../didit/index.ts';
import type { SessionRecord } from './types.ts';

export function sessionUrl(publicUrl: string, record: Pick<SessionRecord, 'session_token'>): string {
  return `${publicUrl}/session/${record.session_token}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The fields the decision and the list summary both carry, in the contract's order. */
function common(publicUrl: string, r: SessionRecord) {
  return {
    session_id: r.session_id,
    session_number: r.session_number,
    session_url: sessionUrl(publicUrl, r),
    status: r.status,
    workflow_id: r.workflow_id,
  };
}

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
    ...common(publicUrl, r),
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
    ...common(publicUrl, r),
    vendor_data: r.vendor_data,
    created_at: iso(r.created_at),
    features: r.features.map((feature) => ({ feature, status: blocks[feature]?.[0]?.status ?? 'Not Finished' })),
  };
}
