// One face, one account (issue 14), on a real store and the real face engine with the shared
// faces: the 1:N duplicate check at enrolment (DUPLICATED_FACE, In Review, naming the other
// account), the face blocklist (Didit's /v3/blocklist/add/ and /remove/, through the shared
// DiditClient; FACE_IN_BLOCKLIST declines enrolments and sign-ins), the endpoint's refusals, and
// the in-memory index kept in step between two verifier instances on one store, erasure included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiditApiError, DiditClient } from '../../src/didit/index.ts';
import { faceRef } from '../../src/verifier/faces/changes.ts';
import { forgetVendor } from '../../src/verifier/forget.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { K } from '../../src/verifier/keys.ts';
import { API_KEY, api, captureOnce, captureScreenLight, portraitB64, selfieJpeg, startTestVerifier } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';

const TEMPLATE_KEYS = `one-face:${Buffer.alloc(32, 9).toString('base64')}`;
const face = lazyFaceEngine({ poolSize: 2 });
let v: TestVerifier;
let client: DiditClient;

beforeAll(async () => {
  await face.warm();
  v = await startTestVerifier({ face, env: { VERIFIER_TEMPLATE_KEYS: TEMPLATE_KEYS } });
  client = new DiditClient({ baseUrl: v.url, apiKey: API_KEY });
});
afterAll(async () => {
  await v?.stop();
  await face.close();
});

async function newSession(on: TestVerifier, body: Record<string, unknown>) {
  const res = await api(on, 'POST', '/v3/session/', body);
  expect(res.status).toBe(201);
  return res.body as { session_id: string; url: string };
}
const decision = async (on: TestVerifier, id: string) => (await api(on, 'GET', `/v3/session/${id}/decision/`)).body;
type W = { risk: string; log_type: string; additional_data: Record<string, unknown> | null };
const warningsOf = (d: any): W[] => [...(d.liveness_checks ?? []), ...(d.face_matches ?? []), ...(d.ip_analyses ?? [])].flatMap((b: { warnings: W[] }) => b.warnings);
const risk = (d: any, name: string) => warningsOf(d).find((w) => w.risk === name);

/** A sign-in with the face-only workflow: `who`'s selfie against `portrait`'s portrait. */
async function faceOnly(vendor: string, portrait: [string, number], selfie: [string, number]) {
  const s = await newSession(v, { workflow_id: 'face-only', vendor_data: vendor, portrait_image: await portraitB64(...portrait) });
  const res = await captureOnce(s.url, await selfieJpeg(...selfie));
  expect(res.status).toBe(200);
  return { id: s.session_id, status: res.body.status as string, decision: await decision(v, s.session_id) };
}

describe('face blocklist through the shared client (Didit /v3/blocklist/add/ and /remove/)', { timeout: 60_000 }, () => {
  it('addToBlocklist puts a session face on it: the same person is then Declined with FACE_IN_BLOCKLIST, someone else is not; removeFromBlocklist lifts it', async () => {
    const first = await faceOnly('bl-amy-1', ['amy', 2], ['amy', 1]);
    expect(first.status).toBe('Approved');

    expect(await client.addToBlocklist(first.id)).toEqual({ message: 'Successfully updated blocklist.' });
    // Twice is the same as once.
    await client.addToBlocklist(first.id);
    const listed = await client.listBlocklist();
    expect(listed.results.filter((e) => e.session_id === first.id)).toHaveLength(1);
    expect(listed.results.find((e) => e.session_id === first.id)).toMatchObject({ vendor_data: 'bl-amy-1' });
    const entry = await v.store.get<{ sealed: string }>(K.blocklistEntry(listed.results.find((e) => e.session_id === first.id)!.entry_id));
    expect(entry!.sealed).toMatch(/^ft1\./);

    const again = await faceOnly('bl-amy-2', ['amy', 2], ['amy', 3]);
    expect(again.status).toBe('Declined');
    const hit = risk(again.decision, 'FACE_IN_BLOCKLIST');
    expect(hit).toMatchObject({ log_type: 'error', additional_data: { session_id: first.id } });
    expect(hit!.additional_data!.score as number).toBeGreaterThan(50);
    expect(again.decision.face_matches[0].status).toBe('Declined');

    const other = await faceOnly('bl-raj', ['raj', 2], ['raj', 1]);
    expect(other.status).toBe('Approved');
    expect(risk(other.decision, 'FACE_IN_BLOCKLIST')).toBeUndefined();

    expect(await client.removeFromBlocklist(first.id)).toEqual({ message: 'Successfully removed from blocklist.' });
    expect((await client.listBlocklist()).results.some((e) => e.session_id === first.id)).toBe(false);
    expect((await faceOnly('bl-amy-3', ['amy', 2], ['amy', 3])).status).toBe('Approved');
  });

  it('refuses: no key 403, a wrong key 401, bad bodies 400 (field-keyed), an unknown session 404, a session with no face 400', async () => {
    const add = (body: unknown, opts: { key?: string | null; headers?: Record<string, string> } = {}) => api(v, 'POST', '/v3/blocklist/add/', body, opts);
    const some = '0d7f6e1c-95a4-4b8e-9f0a-3c2b1a000000';
    expect(await add({ session_id: some, blocklist_face: true }, { key: null })).toMatchObject({ status: 403, body: { detail: 'You do not have permission to perform this action.' } });
    expect((await add({ session_id: some, blocklist_face: true }, { key: 'not-a-key' })).status).toBe(401);
    expect((await api(v, 'GET', '/v3/blocklist/', undefined, { key: 'not-a-key' })).status).toBe(401);
    expect((await api(v, 'POST', '/v3/blocklist/remove/', { session_id: some, unblock_face: true }, { key: null })).status).toBe(403);

    expect(await add({ blocklist_face: true })).toMatchObject({ status: 400, body: { session_id: [expect.any(String)] } });
    expect(await add({ session_id: 'not-a-uuid', blocklist_face: true })).toMatchObject({ status: 400, body: { session_id: ['Must be a valid UUID.'] } });
    expect(await add({ session_id: some, blocklist_face: 'yes' })).toMatchObject({ status: 400, body: { blocklist_face: [expect.any(String)] } });
    expect(await add({ session_id: some })).toMatchObject({ status: 400, body: { blocklist_face: [expect.stringMatching(/Nothing to blocklist/)] } });
    expect(await add({ session_id: some, blocklist_face: true, blocklist_document: true })).toMatchObject({ status: 400, body: { blocklist_document: [expect.stringMatching(/faces only/)] } });
    expect(await add('{"session_id":', { headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400, body: { detail: expect.stringMatching(/JSON/) } });
    expect((await add([1, 2])).status).toBe(400);
    expect((await add('session_id=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);

    expect(await add({ session_id: some, blocklist_face: true })).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect((await api(v, 'POST', '/v3/blocklist/remove/', { session_id: some, unblock_face: true })).status).toBe(404);

    // A session that never captured a face holds none to blocklist.
    const fresh = await newSession(v, { workflow_id: 'face-only', vendor_data: 'bl-none', portrait_image: await portraitB64('amy', 2) });
    expect(await add({ session_id: fresh.session_id, blocklist_face: true })).toMatchObject({ status: 400, body: { blocklist_face: [expect.stringMatching(/holds no face/)] } });
    // Through the client, the refusals are DiditApiErrors with the status.
    await expect(client.addToBlocklist(some)).rejects.toMatchObject({ status: 404 });
    await expect(client.addToBlocklist(fresh.session_id)).rejects.toBeInstanceOf(DiditApiError);
    expect((await client.listBlocklist()).results.some((e) => e.session_id === fresh.session_id)).toBe(false);
  });
});

// Three to four screen-light captures per test: allow for a machine shared with other work.
describe('one face, one account: 1:N at enrolment, the blocklist at enrolment and sign-in, two instances', { timeout: 120_000 }, () => {
  let second: TestVerifier;
  beforeAll(async () => {
    // Another instance on the same store (and template keys), as a second host would be.
    second = await startTestVerifier({ face, store: v.store, env: { VERIFIER_TEMPLATE_KEYS: TEMPLATE_KEYS } });
  });
  afterAll(async () => {
    await second?.stop();
  });

  it('a second account enrolled with the same face goes to In Review with DUPLICATED_FACE naming the first; a different person does not; the index is in step on both instances', async () => {
    const first = await newSession(v, { workflow_id: 'kyc', vendor_data: 'acct-penny-1' });
    expect((await captureScreenLight(first.url, 'bona_fide', 3, 'penny')).body.status).toBe('Approved');

    // Enrolled through instance 1; the duplicate arrives at instance 2.
    const dup = await newSession(second, { workflow_id: 'kyc', vendor_data: 'acct-penny-2' });
    const res = await captureScreenLight(dup.url, 'bona_fide', 2, 'penny');
    expect(res.body.status).toBe('In Review');
    const d = await decision(second, dup.session_id);
    expect(d.status).toBe('In Review');
    const w = risk(d, 'DUPLICATED_FACE');
    expect(w).toMatchObject({ log_type: 'warning', additional_data: { vendor_data: 'acct-penny-1', session_id: first.session_id } });
    expect(w!.additional_data!.score as number).toBeGreaterThan(50);
    expect(d.liveness_checks[0].status).toBe('In Review');
    // The page tells the user only the status, never the other account.
    expect(JSON.stringify(res.body)).not.toMatch(/acct-penny-1|DUPLICATED_FACE/);
    // Nothing enrolled for the duplicate until an operator approves it.
    expect(await v.store.get(K.template('acct-penny-2'))).toBeUndefined();

    const other = await newSession(second, { workflow_id: 'kyc', vendor_data: 'acct-leonard' });
    expect((await captureScreenLight(other.url, 'bona_fide', 3, 'leonard')).body.status).toBe('Approved');
    expect(risk(await decision(second, other.session_id), 'DUPLICATED_FACE')).toBeUndefined();

    // Both instances hold both enrolments (one decrypted each, at the change, not per search).
    for (const on of [v, second]) {
      await on.deps.faces.sync();
      expect(on.deps.faces.enrolled.has(faceRef('enrolled', 'acct-penny-1'))).toBe(true);
      expect(on.deps.faces.enrolled.has(faceRef('enrolled', 'acct-leonard'))).toBe(true);
      expect(on.deps.faces.builds).toBe(1);
    }
  });

  it('a blocklisted face is Declined with FACE_IN_BLOCKLIST at enrolment and at sign-in (even against its own enrolment)', async () => {
    const enrol = await newSession(v, { workflow_id: 'kyc', vendor_data: 'acct-howard' });
    expect((await captureScreenLight(enrol.url, 'bona_fide', 3, 'howard')).body.status).toBe('Approved');
    expect((await api(v, 'POST', '/v3/blocklist/add/', { session_id: enrol.session_id, blocklist_face: true })).status).toBe(200);

    // A new account with that face, on the other instance.
    const again = await newSession(second, { workflow_id: 'kyc', vendor_data: 'acct-howard-2' });
    expect((await captureScreenLight(again.url, 'bona_fide', 2, 'howard')).body.status).toBe('Declined');
    const d = await decision(second, again.session_id);
    expect(risk(d, 'FACE_IN_BLOCKLIST')).toMatchObject({ log_type: 'error', additional_data: { session_id: enrol.session_id } });
    expect(await v.store.get(K.template('acct-howard-2'))).toBeUndefined();

    // The blocklisted account's own sign-in.
    const signin = await newSession(v, { workflow_id: 'reauth', vendor_data: 'acct-howard' });
    expect((await captureScreenLight(signin.url, 'bona_fide', 2, 'howard')).body.status).toBe('Declined');
    const s = await decision(v, signin.session_id);
    expect(risk(s, 'FACE_IN_BLOCKLIST')).toMatchObject({ log_type: 'error' });
    expect(s.face_matches[0].score).toBeGreaterThan(56);
  });

  it('erasure drops the account from every instance index; its blocklisted face stays blocklisted, naming no one', async () => {
    const howardRef = faceRef('enrolled', 'acct-howard');
    for (const on of [v, second]) {
      await on.deps.faces.sync();
      expect(on.deps.faces.enrolled.has(howardRef)).toBe(true);
    }
    await forgetVendor(v.store, 'acct-howard');
    await forgetVendor(v.store, 'acct-penny-1');
    for (const on of [v, second]) {
      await on.deps.faces.sync();
      expect(on.deps.faces.enrolled.has(howardRef)).toBe(false);
      expect(on.deps.faces.enrolled.has(faceRef('enrolled', 'acct-penny-1'))).toBe(false);
      expect(on.deps.faces.enrolled.has(faceRef('enrolled', 'acct-leonard'))).toBe(true);
      const blocked = [...on.deps.faces.blocked.entries()].map(([, m]) => m);
      expect(blocked.some((m) => m.vendor_data === 'acct-howard')).toBe(false);
    }
    expect(await v.store.get(K.faceRef(howardRef))).toBeUndefined();
    expect(await v.store.indexMembers(K.blocklistByVendor('acct-howard'))).toEqual([]);
    const list = await client.listBlocklist();
    expect(list.results.some((e) => e.vendor_data === 'acct-howard')).toBe(false);
    expect(list.results.some((e) => e.vendor_data === null && e.session_id === null)).toBe(true);

    // Penny's second account was waiting on the first: now its face is nobody else's.
    const after = await newSession(second, { workflow_id: 'kyc', vendor_data: 'acct-penny-3' });
    expect((await captureScreenLight(after.url, 'bona_fide', 3, 'penny')).body.status).toBe('Approved');
    // Howard's face is still blocklisted.
    const howard = await newSession(second, { workflow_id: 'kyc', vendor_data: 'acct-howard-3' });
    expect((await captureScreenLight(howard.url, 'bona_fide', 3, 'howard')).body.status).toBe('Declined');
  });
});
