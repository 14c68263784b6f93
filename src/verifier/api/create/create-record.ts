// Step 4b: a new session. The token in its URL is the only credential the hosted page has, so it
// is long and random; the expiry timer is armed in the store with it.
import { randomBytes, randomUUID } from 'node:crypto';
import type { CreateSessionInput } from '../../../didit/index.ts';
import type { VerifierDeps } from '../../deps.ts';
import { K } from '../../keys.ts';
import { saveMedia } from '../../media.ts';
import { timersFor } from '../../queue/timers.ts';
import { recordTtlSeconds } from '../../sessions/repo.ts';
import { saveWithJobs } from '../../sessions/transition.ts';
import type { SessionRecord } from '../../sessions/types.ts';
import type { Workflow } from '../../workflows.ts';
import type { Portrait } from './analyse-portrait.ts';

export async function createRecord(deps: VerifierDeps, input: CreateSessionInput, workflow: Workflow, portrait: Portrait | undefined): Promise<SessionRecord> {
  const now = Date.now();
  const record: SessionRecord = {
    session_id: randomUUID(),
    session_number: await deps.store.incr(K.sessionNumber()),
    session_token: randomBytes(18).toString('base64url'),
    workflow_id: workflow.workflow_id,
    workflow_version: workflow.workflow_version,
    workflow_type: workflow.workflow_type,
    features: workflow.features,
    vendor_data: input.vendor_data ?? null,
    metadata: input.metadata ?? null,
    callback: input.callback ?? null,
    callback_method: input.callback_method ?? 'initiator',
    language: input.language ?? null,
    contact_details: input.contact_details ?? null,
    expected_details: input.expected_details ?? null,
    status: 'Not Started',
    created_at: now,
    expires_at: now + deps.config.sessionExpiryMs,
    opened_at: null,
    completed_at: null,
    reference: portrait?.reference ?? null,
    upload_id: null,
    capture_attempts: 0,
    liveness_checks: null,
    face_matches: null,
    ip_analyses: null,
    reviews: [],
    media: [],
    pending_template: null,
  };
  if (portrait && workflow.retain_media) {
    await saveMedia(deps.store, record.session_id, 'portrait.jpg', portrait.image, recordTtlSeconds(record, deps.config.sessionRetentionMs));
    record.media.push('portrait.jpg');
  }
  // The record and its expiry timer in one write: a crash cannot leave a session that never expires.
  await saveWithJobs(deps, record, timersFor(deps.config, record));
  return record;
}
