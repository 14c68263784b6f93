// What a request that needs the store gets while the store is unreachable (Redis down, restarting,
// failing over): a 503 that says so and when to retry, never a hang or a 500 with a stack. Each
// app's error handler maps isStoreUnavailable errors here; /readyz reports the same state.
import type { Context } from 'koa';
import { isStoreUnavailable } from '../store/index.ts';

export const OUTAGE_RETRY_AFTER_SECONDS = 5;
export const OUTAGE_MESSAGE = 'The service cannot reach its data store right now. Nothing was lost; please try again in a moment.';

export { isStoreUnavailable };

/** /readyz: 200 when the store answers a ping, else 503 with the reason (the balancer drains this instance). */
export async function readiness(ctx: Context, ping: () => Promise<void>, onFailure?: () => void): Promise<void> {
  try {
    await ping();
    ctx.body = { status: 'ready', store: 'ok' };
  } catch (err) {
    onFailure?.();
    ctx.status = 503;
    ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
    ctx.body = { status: 'not ready', store: 'unreachable', reason: (err as Error).message };
  }
}
