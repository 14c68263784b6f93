// GET /v3/sessions/?vendor_data=&status=&workflow_id=&offset=&limit= — newest first, paginated
// with absolute next/previous links like the real service. Reads the whole index it filters: fine
// for an embedded verifier's volumes, not a search engine.
import type { Context } from 'koa';
import { z } from 'zod';
import { SESSION_STATUSES, toFieldErrors } from '../../didit/index.ts';
import type { SessionList } from '../../didit/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { fieldErrors } from '../http/errors.ts';
import { K } from '../keys.ts';
import { toSummary } from '../sessions/decision.ts';
import { sessionsIn } from '../sessions/repo.ts';

const querySchema = z.object({
  vendor_data: z.string().min(1).optional(),
  status: z.enum(SESSION_STATUSES).optional(),
  workflow_id: z.string().min(1).optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export function listSessions(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const single = Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]).filter(([, v]) => v !== ''));
    const parsed = querySchema.safeParse(single);
    if (!parsed.success) throw fieldErrors(toFieldErrors(parsed.error));
    const q = parsed.data;
    const index = q.vendor_data !== undefined ? K.vendorSessions(q.vendor_data) : K.allSessions();
    const matching = (await sessionsIn(deps.store, index)).filter(
      (r) => (q.status === undefined || r.status === q.status) && (q.workflow_id === undefined || r.workflow_id === q.workflow_id) && (q.vendor_data === undefined || r.vendor_data === q.vendor_data),
    );
    const page = (offset: number) => {
      const url = new URL(`${deps.config.publicUrl}/v3/sessions/`);
      for (const [k, v] of Object.entries({ vendor_data: q.vendor_data, status: q.status, workflow_id: q.workflow_id })) if (v !== undefined) url.searchParams.set(k, v);
      url.searchParams.set('limit', String(q.limit));
      url.searchParams.set('offset', String(offset));
      return url.toString();
    };
    const body: SessionList = {
      count: matching.length,
      next: q.offset + q.limit < matching.length ? page(q.offset + q.limit) : null,
      previous: q.offset > 0 ? page(Math.max(0, q.offset - q.limit)) : null,
      results: matching.slice(q.offset, q.offset + q.limit).map((r) => toSummary(deps.config.publicUrl, r)),
    };
    ctx.body = body;
  };
}
