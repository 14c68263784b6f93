// Status webhooks: built when a status changes (a snapshot of that moment, with a stable
// event_id), queued durably, and delivered at least once by the job queue. Each attempt is signed
// afresh with the current time, as receivers refuse timestamps more than 300 s off.
import { randomUUID } from 'node:crypto';
import { DECISION_BEARING_STATUSES, WEBHOOK_TYPE, signWebhook } from '../../didit/index.ts';
import type { WebhookEnvelope } from '../../didit/index.ts';
import type { Logger } from '../../logger.ts';
import type { JsonObject } from '../../store/index.ts';
import type { VerifierConfig } from '../config.ts';
import { toDecision } from '../sessions/decision.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { sessionJobId } from '../keys.ts';
import type { Job, JobHandler, JobSpec } from './jobs.ts';

export const WEBHOOK_JOB = 'webhook';

type UnsignedEnvelope = Omit<WebhookEnvelope, 'timestamp'>;

export function buildEnvelope(config: VerifierConfig, record: SessionRecord, workflowVersion: number): UnsignedEnvelope {
  const envelope: UnsignedEnvelope = {
    event_id: randomUUID(),
    webhook_type: WEBHOOK_TYPE,
    created_at: Math.floor(Date.now() / 1000),
    application_id: config.applicationId,
    environment: 'live',
    session_id: record.session_id,
    status: record.status,
    workflow_id: record.workflow_id,
    workflow_version: workflowVersion,
    vendor_data: record.vendor_data,
    metadata: record.metadata,
  };
  if ((DECISION_BEARING_STATUSES as readonly string[]).includes(record.status)) envelope.decision = toDecision(config.publicUrl, record);
  return envelope;
}

/**
 * The webhook job for this record's (new) status, for the caller to save with the status in one
 * write (sessions/transition.ts). No URL configured: nothing to send. The event_id is fixed here,
 * so every delivery attempt of this event, from any instance, carries the same one.
 */
export function statusWebhook(config: VerifierConfig, record: SessionRecord): { spec: JobSpec; eventId: string } | undefined {
  if (!config.webhookUrl) return undefined;
  const envelope = buildEnvelope(config, record, record.workflow_version);
  const spec: JobSpec = { kind: WEBHOOK_JOB, data: { url: config.webhookUrl, envelope: envelope as unknown as JsonObject }, due: Date.now(), id: sessionJobId(record.session_id, `webhook:${envelope.event_id}`) };
  return { spec, eventId: envelope.event_id };
}

/** Statuses worth another attempt: the receiver is down, restarting, or not routed yet. */
function retryable(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 429;
}

export function webhookDelivery(config: VerifierConfig, log: Logger): JobHandler {
  return async (job: Job) => {
    // This process's receiver, not the one of the process that queued the event: a job taken over
    // from a dead instance would otherwise go to that instance's own loopback port (the embedded
    // default). Every instance on one store has the same receiver; the stored URL is a fallback.
    const url = config.webhookUrl ?? String(job.data.url);
    const envelope = job.data.envelope as unknown as UnsignedEnvelope;
    const body = { ...envelope, timestamp: Math.floor(Date.now() / 1000) };
    const signed = signWebhook(body, config.webhookSecret);
    const attempt = job.attempts + 1;
    const fields = { event_id: envelope.event_id, session_id: envelope.session_id, status: envelope.status, attempt };

    let failure: string;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'selfie-idp-verifier', ...signed.headers },
        body: signed.body,
        signal: AbortSignal.timeout(config.webhookTimeoutMs),
        redirect: 'manual',
      });
      await response.body?.cancel();
      if (response.ok) {
        log.info({ ...fields, http_status: response.status }, 'webhook delivered');
        return { done: true };
      }
      if (!retryable(response.status)) {
        log.error({ ...fields, http_status: response.status }, 'webhook refused by the receiver; not retried');
        return { dead: `HTTP ${response.status}` };
      }
      failure = `HTTP ${response.status}`;
    } catch (err) {
      const name = (err as Error).name;
      failure = name === 'TimeoutError' || name === 'AbortError' ? `timeout after ${config.webhookTimeoutMs} ms` : `network error: ${(err as Error).message}`;
    }

    const delay = config.webhookRetryDelaysMs[job.attempts];
    if (delay === undefined) {
      log.error({ ...fields, failure }, 'webhook undeliverable after the last retry; the decision endpoint still has the verdict');
      return { dead: failure };
    }
    log.warn({ ...fields, failure, retry_in_ms: delay }, 'webhook delivery failed; will retry');
    return { retryAt: Date.now() + delay, reason: failure };
  };
}
