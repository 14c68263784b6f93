// Step 1: the body must be JSON (415 otherwise), parse (400 on bad JSON), and pass the contract's
// request schema (400 keyed by field).
import type { Context } from 'koa';
import { createSessionRequestSchema, toFieldErrors } from '../../../didit/index.ts';
import type { CreateSessionInput } from '../../../didit/index.ts';
import { readJson } from '../../../http/body.ts';
import { fieldErrors } from '../../http/errors.ts';

// A 1 MB portrait is about 1.4 MB in base64, plus the other fields.
const BODY_LIMIT = 2 * 1024 * 1024;

export async function parseCreateRequest(ctx: Context): Promise<CreateSessionInput> {
  const body = await readJson(ctx, BODY_LIMIT);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw fieldErrors({ non_field_errors: ['Invalid data. Expected a dictionary.'] });
  const parsed = createSessionRequestSchema.safeParse(body);
  if (!parsed.success) throw fieldErrors(toFieldErrors(parsed.error));
  return parsed.data;
}
