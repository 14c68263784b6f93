// The face blocklist, as Didit's API has it: POST /v3/blocklist/add/ {"session_id", "blocklist_face":
// true} blocklists the face that session showed; POST /v3/blocklist/remove/ {"session_id",
// "unblock_face": true} takes it off. GET /v3/blocklist/ (our extension) lists the entries. Only
// faces exist here: asking to blocklist a document, phone or e-mail is refused, not ignored.
import type { Context } from 'koa';
import type { z } from 'zod';
import { blocklistAddRequestSchema, blocklistRemoveRequestSchema, toFieldErrors } from '../../didit/index.ts';
import type { BlocklistList } from '../../didit/index.ts';
import { readJson } from '../../http/body.ts';
import type { VerifierDeps } from '../deps.ts';
import { blockSessionFace, listBlocklist, sessionFace, unblockSessionFace } from '../faces/blocklist.ts';
import { fieldErrors } from '../http/errors.ts';
import { sessionOr404 } from './load-session.ts';

const NOT_HERE = 'This verifier holds faces only: it has no documents, phone numbers or e-mail addresses to blocklist.';

async function parse<S extends z.ZodType>(ctx: Context, schema: S): Promise<z.output<S>> {
  const parsed = schema.safeParse(await readJson(ctx, 4 * 1024));
  if (!parsed.success) throw fieldErrors(toFieldErrors(parsed.error));
  return parsed.data;
}

function refuseOthers(body: Record<string, unknown>, fields: string[]): void {
  const asked = fields.filter((f) => body[f] === true);
  if (asked.length) throw fieldErrors(Object.fromEntries(asked.map((f) => [f, [NOT_HERE]])));
}

export function addToBlocklist(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const body = await parse(ctx, blocklistAddRequestSchema);
    refuseOthers(body, ['blocklist_document', 'blocklist_phone', 'blocklist_email']);
    if (!body.blocklist_face) throw fieldErrors({ blocklist_face: ['Nothing to blocklist: set blocklist_face to true.'] });
    const record = await sessionOr404(deps, body.session_id);
    const sealed = await sessionFace(deps.store, record);
    if (!sealed) throw fieldErrors({ blocklist_face: ['This session holds no face: it has no capture with a usable face (yet).'] });
    const added = await blockSessionFace(deps.store, record, sealed);
    deps.log.info({ session_id: record.session_id, added, api_key: ctx.state.apiKeyId }, 'verifier: face blocklisted');
    ctx.body = { message: 'Successfully updated blocklist.' };
  };
}

export function removeFromBlocklist(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const body = await parse(ctx, blocklistRemoveRequestSchema);
    refuseOthers(body, ['unblock_document', 'unblock_phone', 'unblock_email']);
    if (!body.unblock_face) throw fieldErrors({ unblock_face: ['Nothing to remove: set unblock_face to true.'] });
    // A session deleted since it was blocklisted is unknown here (404): its face stays blocklisted
    // (GET /v3/blocklist/ still lists it; removing it by entry id is not built yet).
    const record = await sessionOr404(deps, body.session_id);
    const removed = await unblockSessionFace(deps.store, record.session_id);
    deps.log.info({ session_id: record.session_id, removed, api_key: ctx.state.apiKeyId }, 'verifier: face taken off the blocklist');
    ctx.body = { message: 'Successfully removed from blocklist.' };
  };
}

export function listBlocklistEntries(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const entries = await listBlocklist(deps.store);
    const body: BlocklistList = { count: entries.length, results: entries.map(({ entry_id, session_id, vendor_data, created_at }) => ({ entry_id, session_id, vendor_data, created_at })) };
    ctx.body = body;
  };
}
