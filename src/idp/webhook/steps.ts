// POST /webhooks/didit, one small step per concern. The order matters: nothing is parsed
// before the signature is checked, and an event id is remembered only once it is authentic.
import type { Context, Next } from 'koa';
import { verifyWebhook } from '../../didit/index.ts';
import type { ReceivedWebhook } from '../../didit/index.ts';
import { readRawBody } from '../../http/body.ts';
import type { Store } from '../../store/index.ts';
import type { Attempt, Attempts } from '../signin/attempts.ts';
import type { Accounts } from '../accounts.ts';
import { completeEnrolment } from '../signin/enrolment.ts';
import type { Verification } from '../signin/verification.ts';

type State = { raw?: Buffer; event?: ReceivedWebhook; attempt?: Attempt };
const state = (ctx: Context) => ctx.state as State & { log: { info: Function; warn: Function } };

function refuse(ctx: Context, status: number, reason: string) {
  ctx.status = status;
  ctx.body = { error: reason };
  state(ctx).log.warn({ reason }, 'webhook refused');
}

export function readBody(limitBytes = 1024 * 1024) {
  return async (ctx: Context, next: Next) => {
    try {
      state(ctx).raw = await readRawBody(ctx, limitBytes);
    } catch {
      return refuse(ctx, 413, 'body_too_large');
    }
    await next();
  };
}

export function verifySignature(secret: string) {
  return async (ctx: Context, next: Next) => {
    const result = verifyWebhook(state(ctx).raw!, ctx.req.headers, secret);
    // Forged, unsigned, stale or malformed: all 401, with the reason in our log only.
    if (!result.ok) return refuse(ctx, 401, 'invalid_signature');
    state(ctx).event = result.payload;
    await next();
  };
}

/** How long an event being handled holds its id before a retry may handle it (its handler died). */
const EVENT_PENDING_SECONDS = 30;

/**
 * A replayed event id is refused. Ids are kept for 24 h, well past the 300 s timestamp window.
 *
 * The id is only marked as seen once the event was handled: first a short "pending" mark (so two
 * deliveries at once are not both handled), then, after recordStatus, the 24 h one. An event whose
 * handling failed (the store went away: 503) or whose process died is thus handled on the sender's
 * next attempt instead of being refused as a replay and lost; meanwhile a retry gets a 503.
 */
export function refuseReplay(store: Store) {
  return async (ctx: Context, next: Next) => {
    const { event_id } = state(ctx).event!;
    const key = `webhook:event:${event_id}`;
    if (!(await store.setIfAbsent(key, 'pending', { ttl: EVENT_PENDING_SECONDS }))) {
      if ((await store.get(key)) === 'pending') {
        ctx.set('retry-after', String(EVENT_PENDING_SECONDS));
        return refuse(ctx, 503, 'event_in_progress');
      }
      return refuse(ctx, 401, 'replayed_event');
    }
    try {
      await next();
    } catch (err) {
      await store.delete(key).catch(() => undefined);
      throw err;
    }
    await store.set(key, Date.now(), { ttl: 24 * 3600 });
  };
}

/** An unknown session is not an error of the sender: 200, so it does not retry, and a log line. */
export function loadAttempt(attempts: Attempts) {
  return async (ctx: Context, next: Next) => {
    const event = state(ctx).event!;
    const attempt = await attempts.get(event.session_id);
    if (!attempt) {
      state(ctx).log.info({ sessionId: event.session_id, eventId: event.event_id, status: event.status }, 'webhook for an unknown or finished verification session');
      ctx.body = { received: true };
      return;
    }
    if (event.vendor_data !== attempt.accountId) {
      state(ctx).log.warn({ sessionId: event.session_id }, 'webhook vendor_data does not match the attempt; ignored');
      ctx.body = { received: true };
      return;
    }
    state(ctx).attempt = attempt;
    await next();
  };
}

/**
 * Events are ordered by when the status changed (`created_at`, fixed when the event is built),
 * never by the signature `timestamp`: the sender signs every retry afresh, so a retried old
 * Approved would otherwise look newer than an operator's later Declined.
 */
export function recordStatus(attempts: Attempts) {
  return async (ctx: Context, next: Next) => {
    const event = state(ctx).event!;
    await attempts.recordStatus(event.session_id, event.status, 'webhook', event.created_at);
    state(ctx).log.info({ sessionId: event.session_id, eventId: event.event_id, status: event.status }, 'verification status recorded');
    ctx.body = { received: true };
    await next();
  };
}

/**
 * An Approved enrolment completes here too, not only when the browser comes back: a closed tab
 * must not leave the account half-enrolled (signin/enrolment.ts). Failures are logged; the
 * webhook is still acknowledged (the callback, or the next delivery, tries again).
 */
export function completeApprovedEnrolment(verification: Verification, accounts: Accounts) {
  return async (ctx: Context) => {
    const event = state(ctx).event!;
    const attempt = state(ctx).attempt!;
    if (event.status !== 'Approved' || attempt.purpose !== 'enrol') return;
    try {
      const won = await completeEnrolment(verification, accounts, attempt, state(ctx).log as never);
      if (!won) state(ctx).log.warn({ sessionId: event.session_id }, 'enrolment approved for an account another sign-up enrolled first; not enrolled');
    } catch (err) {
      state(ctx).log.warn({ sessionId: event.session_id, err: (err as Error).message }, 'enrolment not completed from the webhook');
    }
  };
}
