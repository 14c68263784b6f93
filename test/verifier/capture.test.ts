// Captures through the hosted page's upload endpoint (no browser), judged by the real face engine:
// face match against portrait_image and against an enrolled template, enrolment by a kyc session,
// quality refusals and retries, single-use uploads, media retention, and PASSIVE liveness on the
// still + burst upload (synthetic bona fide and attack bursts, recorded under the screen-light
// pattern the page asked for; the plain burst of a workflow with screen light off). One engine for
// the whole file.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/didit/index.ts';
import { K } from '../../src/verifier/keys.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { forgetVendor } from '../../src/verifier/forget.ts';
import { EnrolmentError, enrolFromImages, loadTemplate } from '../../src/verifier/templates.ts';
import { DEFAULT_THRESHOLDS, LEGACY_MODEL, MODEL, openTemplate, sealTemplate, type FaceTemplate } from '../../src/face/index.ts';
import { API_KEY, WEBHOOK_SECRET, api, blankJpeg, burstForm, captureBurst, captureOnce, captureScreenLight, syntheticBurst, facePng, openPage, portraitB64, selfieJpeg, startReceiver, startTestVerifier, waitFor } from '../helpers/verifier.ts';
import type { Receiver, TestVerifier } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 2 });
let v: TestVerifier;
let receiver: Receiver;

beforeAll(async () => {
  await face.warm();
  receiver = await startReceiver();
  v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: receiver.url } });
});
afterAll(async () => {
  await v?.stop();
  await receiver?.close();
  await face.close();
});

async function newSession(body: Record<string, unknown>) {
  const res = await api(v, 'POST', '/v3/session/', { callback: 'https://rp.example/reauth/callback?x=1', ...body });
  expect(res.status).toBe(201);
  return res.body as { session_id: string; url: string; session_token: string };
}

const decision = async (id: string) => (await api(v, 'GET', `/v3/session/${id}/decision/`)).body;

describe('face match against portrait_image (liveness off)', () => {
  it('Approved for another image of the same person, with the callback redirect and a signed webhook', async () => {
    const s = await newSession({ workflow_id: 'face-only', vendor_data: 'amy', portrait_image: await portraitB64('amy', 2) });
    const res = await captureOnce(s.url, await selfieJpeg('amy', 1));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('complete');
    expect(res.body.status).toBe('Approved');
    const redirect = new URL(res.body.redirect);
    expect(redirect.origin + redirect.pathname).toBe('https://rp.example/reauth/callback');
    expect(Object.fromEntries(redirect.searchParams)).toEqual({ x: '1', verificationSessionId: s.session_id, status: 'Approved' });

    const d = await decision(s.session_id);
    expect(d.status).toBe('Approved');
    expect(d.liveness_checks).toBeNull();
    expect(d.ip_analyses).toBeNull();
    expect(d.face_matches).toHaveLength(1);
    expect(d.face_matches[0]).toMatchObject({ node_id: 'face_match_1', status: 'Approved', source_image: null, target_image: null, warnings: [] });
    expect(d.face_matches[0].score).toBeGreaterThan(56);

    const hook = await waitFor('Approved webhook', () => receiver.deliveries.find((x) => x.body.includes(s.session_id) && x.body.includes('"status":"Approved"')));
    const verified = verifyWebhook(hook.body, hook.headers, WEBHOOK_SECRET);
    expect(verified.ok && verified.payload.decision?.face_matches?.[0]?.status).toBe('Approved');
  });

  it('Declined for someone else, with LOW_FACE_MATCH_SIMILARITY', async () => {
    const s = await newSession({ workflow_id: 'face-only', vendor_data: 'amy-impostor', portrait_image: await portraitB64('amy', 2) });
    const res = await captureOnce(s.url, await selfieJpeg('howard', 1));
    expect(res.body).toMatchObject({ outcome: 'complete', status: 'Declined' });
    const d = await decision(s.session_id);
    expect(d.face_matches[0].score).toBeLessThanOrEqual(60);
    expect(d.face_matches[0].warnings).toEqual([expect.objectContaining({ feature: 'FACE_MATCH', risk: 'LOW_FACE_MATCH_SIMILARITY', log_type: 'error', node_id: 'face_match_1' })]);
  });

  it('a portrait with no face is refused at creation (400 on portrait_image)', async () => {
    const res = await api(v, 'POST', '/v3/session/', { workflow_id: 'face-only', portrait_image: (await blankJpeg()).toString('base64') });
    expect(res.status).toBe(400);
    expect(res.body.portrait_image[0]).toMatch(/No face/);
  });

  it('NO_REFERENCE_IMAGE when there is neither a portrait nor an enrolment', async () => {
    const s = await newSession({ workflow_id: 'face-only', vendor_data: 'nobody-enrolled' });
    const res = await captureOnce(s.url, await selfieJpeg('amy', 1));
    expect(res.body.status).toBe('Declined');
    const fm = (await decision(s.session_id)).face_matches[0];
    expect(fm).toMatchObject({ status: 'Declined', score: null });
    expect(fm.warnings[0]).toMatchObject({ risk: 'NO_REFERENCE_IMAGE', log_type: 'error' });
  });
});

describe('enrolment and re-authentication against the template', () => {
  it('an Approved kyc session enrols vendor_data; a later sign-in without portrait matches it', async () => {
    const kyc = await newSession({ workflow_id: 'kyc', vendor_data: 'user-amy' });
    const enrol = await captureScreenLight(kyc.url, 'bona_fide', 3, 'amy');
    expect(enrol.body.status).toBe('Approved');
    const stored = await loadTemplate(v.store, 'user-amy');
    expect(stored).toMatchObject({ source_session_id: kyc.session_id, images: 1 });
    expect(stored!.sealed).toMatch(/^ft1\./);
    expect(JSON.stringify(stored)).not.toMatch(/embedding/);

    const kycDecision = await decision(kyc.session_id);
    const live = kycDecision.liveness_checks[0];
    expect(live).toMatchObject({ node_id: 'liveness_1', status: 'Approved', method: 'PASSIVE', video_url: null, reference_image: null });
    expect(live.score).toBeGreaterThan(50);
    expect(live.warnings.map((w: { risk: string }) => w.risk)).not.toContain('PRESENTATION_ATTACK_DETECTION_NOT_IMPLEMENTED');
    expect(kycDecision.ip_analyses[0]).toMatchObject({ ip_address: expect.stringMatching(/127\.0\.0\.1/), browser_family: 'Safari', os_family: 'iOS', platform: 'mobile', is_vpn_or_tor: null });

    const same = await newSession({ workflow_id: 'reauth', vendor_data: 'user-amy' });
    expect((await captureScreenLight(same.url, 'bona_fide', 2, 'amy')).body.status).toBe('Approved');
    expect((await decision(same.session_id)).face_matches[0].source_image_session_id).toBe(kyc.session_id);
    const other = await newSession({ workflow_id: 'reauth', vendor_data: 'user-amy' });
    expect((await captureScreenLight(other.url, 'bona_fide', 3, 'raj')).body.status).toBe('Declined');
    // (three 18-frame renders and the engine's first use: 50 s on the loaded 2-core machine)
  }, 90_000);

  it('a kyc capture sent to review is enrolled when an operator approves it', async () => {
    const kyc = await newSession({ workflow_id: 'kyc-review', vendor_data: 'user-review' });
    expect((await captureScreenLight(kyc.url, 'bona_fide', 2, 'amy')).body.status).toBe('In Review');
    expect(await loadTemplate(v.store, 'user-review')).toBeUndefined();
    await api(v, 'PATCH', `/v3/session/${kyc.session_id}/update-status/`, { new_status: 'Approved' });
    expect(await loadTemplate(v.store, 'user-review')).toMatchObject({ source_session_id: kyc.session_id });
    expect(JSON.stringify(await v.store.get(K.session(kyc.session_id)))).not.toMatch(/pending_template":"ft1/);
  });

  it('the first enrolment wins: a later Approved-looking kyc capture is Declined (ALREADY_ENROLLED) and the face is unchanged', async () => {
    // Sheldon: amy's face is enrolled for user-amy above, so another account with it would go to review (DUPLICATED_FACE).
    const first = await newSession({ workflow_id: 'kyc', vendor_data: 'user-once' });
    expect((await captureScreenLight(first.url, 'bona_fide', 3, 'sheldon')).body.status).toBe('Approved');
    const second = await newSession({ workflow_id: 'kyc', vendor_data: 'user-once' });
    expect((await captureScreenLight(second.url, 'bona_fide', 3, 'raj')).body.status).toBe('Declined');
    const live = (await decision(second.session_id)).liveness_checks[0];
    expect(live.status).toBe('Declined');
    expect(live.warnings.find((w: { risk: string }) => w.risk === 'ALREADY_ENROLLED')).toMatchObject({ log_type: 'error' });
    expect(await loadTemplate(v.store, 'user-once')).toMatchObject({ source_session_id: first.session_id });
    // Nor can an operator approve a reviewed enrolment over it.
    const reviewed = await newSession({ workflow_id: 'kyc-review', vendor_data: 'user-once' });
    expect((await captureScreenLight(reviewed.url, 'bona_fide', 2, 'raj')).body.status).toBe('In Review');
    const patch = await api(v, 'PATCH', `/v3/session/${reviewed.session_id}/update-status/`, { new_status: 'Approved' });
    expect(patch.status).toBe(400);
    expect(patch.body.new_status[0]).toMatch(/already has an enrolled face/);
    expect((await decision(reviewed.session_id)).status).toBe('In Review');
    // Nor approve the one declined with ALREADY_ENROLLED, nor one declined then approved.
    for (const id of [second.session_id, reviewed.session_id]) {
      if (id === reviewed.session_id) expect((await api(v, 'PATCH', `/v3/session/${id}/update-status/`, { new_status: 'Declined' })).status).toBe(200);
      const approve = await api(v, 'PATCH', `/v3/session/${id}/update-status/`, { new_status: 'Approved' });
      expect(approve.status).toBe(400);
      expect((await decision(id)).status).toBe('Declined');
    }
    expect(await loadTemplate(v.store, 'user-once')).toMatchObject({ source_session_id: first.session_id });
    // With no face enrolled at all, a declined enrolment still cannot be approved: it holds no face.
    const lone = await newSession({ workflow_id: 'kyc-review', vendor_data: 'user-lone' });
    expect((await captureScreenLight(lone.url, 'bona_fide', 2, 'amy')).body.status).toBe('In Review');
    expect((await api(v, 'PATCH', `/v3/session/${lone.session_id}/update-status/`, { new_status: 'Declined' })).status).toBe(200);
    const late = await api(v, 'PATCH', `/v3/session/${lone.session_id}/update-status/`, { new_status: 'Approved' });
    expect(late.status).toBe(400);
    expect(late.body.new_status[0]).toMatch(/holds no face/);
    expect(await loadTemplate(v.store, 'user-lone')).toBeUndefined();
  });

  it('a template of the previous face model still signs in, and the first approved sign-in re-enrols it with the current model', async () => {
    // "Enrol with the old engine": what the previous release stored, a format-1 template of the
    // face-api 128-d embedding (the same net and chip, still shipped for exactly this).
    const enrolImage = facePng('amy', 2);
    const a = await face.analyze(enrolImage, { legacyEmbedding: true });
    const old: FaceTemplate = { v: 1, model: { ...LEGACY_MODEL }, embedding: a.legacy!.embedding, created: '2025-06-01T00:00:00.000Z', quality: { ...a.face.quality, images: 1 } };
    await v.store.set(K.template('user-legacy'), { sealed: sealTemplate(old, v.config.templateKeyring), source_session_id: null, images: 1, created_at: old.created });

    // "Upgrade" is this engine. Someone else is declined by the old model and changes nothing.
    const impostor = await newSession({ workflow_id: 'face-only', vendor_data: 'user-legacy' });
    expect((await captureOnce(impostor.url, await selfieJpeg('howard', 1))).body.status).toBe('Declined');
    expect(openTemplate((await loadTemplate(v.store, 'user-legacy'))!.sealed, v.config.templateKeyring).model).toEqual(LEGACY_MODEL);

    // Sign in: compared in the old model, Approved, and the template is now the current model's.
    const s = await newSession({ workflow_id: 'face-only', vendor_data: 'user-legacy' });
    expect((await captureOnce(s.url, await selfieJpeg('amy', 1))).body.status).toBe('Approved');
    const stored = (await loadTemplate(v.store, 'user-legacy'))!;
    expect(stored.source_session_id).toBe(s.session_id);
    const upgraded = openTemplate(stored.sealed, v.config.templateKeyring);
    expect(upgraded.model).toEqual(MODEL);
    expect(upgraded.v).toBe(2);

    // The next sign-in is judged by the current model and its thresholds.
    const again = await newSession({ workflow_id: 'face-only', vendor_data: 'user-legacy' });
    expect((await captureOnce(again.url, await selfieJpeg('amy', 3))).body.status).toBe('Approved');
    expect((await decision(again.session_id)).face_matches[0].score).toBeGreaterThan(DEFAULT_THRESHOLDS.review);
  });

  it('enrolFromImages enrols from files and refuses a mix of people', async () => {
    const deps = { store: v.store, face, templateKeyring: v.config.templateKeyring };
    const stored = await enrolFromImages(deps, 'cli-user', [facePng('penny', 1), facePng('penny', 2)]);
    expect(stored).toMatchObject({ images: 2, source_session_id: null });
    const s = await newSession({ workflow_id: 'face-only', vendor_data: 'cli-user' });
    expect((await captureOnce(s.url, await selfieJpeg('penny', 5))).body.status).toBe('Approved');
    await expect(enrolFromImages(deps, 'mixed', [facePng('penny', 1), facePng('howard', 1)])).rejects.toBeInstanceOf(EnrolmentError);
    expect(await loadTemplate(v.store, 'mixed')).toBeUndefined();
    // Deleting the account removes its template and its sessions.
    expect(await forgetVendor(v.store, 'cli-user')).toEqual({ template: true, sessions: 1 });
    expect(await loadTemplate(v.store, 'cli-user')).toBeUndefined();
    expect((await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).status).toBe(404);
  });
});

describe('the upload', () => {
  it('is single-use: a replay of the same grant is refused', async () => {
    const s = await newSession({ workflow_id: 'face-only', portrait_image: await portraitB64('sheldon', 2) });
    const page = await openPage(s.url);
    const jpeg = await selfieJpeg('sheldon', 1);
    const [a, b] = await Promise.all([captureOnce(s.url, jpeg, page), captureOnce(s.url, jpeg, page)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await captureOnce(s.url, jpeg, page)).status).toBe(409);
  });

  it('only the newest page load may upload, bound to its own session token', async () => {
    const s = await newSession({ workflow_id: 'face-only', portrait_image: await portraitB64('sheldon', 2) });
    const older = await openPage(s.url);
    const newer = await openPage(s.url);
    const jpeg = await selfieJpeg('sheldon', 1);
    expect((await captureOnce(s.url, jpeg, older)).status).toBe(409);
    const t = await newSession({ workflow_id: 'face-only', portrait_image: await portraitB64('sheldon', 2) });
    const res = await fetch(`${v.url}/session/${t.session_token}/capture`, { method: 'POST', headers: { 'content-type': 'image/jpeg', 'x-upload-token': newer.config.uploadToken }, body: new Uint8Array(jpeg) });
    expect(res.status).toBe(409);
    // A grant presented anywhere else is spent: the page has to load again.
    expect((await captureOnce(s.url, jpeg, newer)).status).toBe(409);
    expect((await captureOnce(s.url, jpeg)).body.status).toBe('Approved');
  });

  it('refuses a wrong content type, a non-JPEG and more than 1 MB', async () => {
    const s = await newSession({ workflow_id: 'face-only' });
    const send = async (body: Buffer, type: string) => {
      const page = await openPage(s.url);
      const res = await fetch(v.url + page.config.uploadUrl, { method: 'POST', headers: { 'content-type': type, 'x-upload-token': page.config.uploadToken }, body: new Uint8Array(body) });
      return res.status;
    };
    expect(await send(await selfieJpeg('amy', 1), 'image/png')).toBe(415);
    expect(await send(facePng('amy', 1), 'image/jpeg')).toBe(400);
    expect(await send(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(1024 * 1024)]), 'image/jpeg')).toBe(413);
    expect((await fetch(`${v.url}/session/${s.session_token}/capture`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(await selfieJpeg('amy', 1)) })).status).toBe(409);
  });

  it('a capture without a face asks for another try, then declines with NO_FACE_DETECTED at the last attempt', async () => {
    const s = await newSession({ workflow_id: 'ip-only', vendor_data: 'blank' });
    const first = await captureOnce(s.url, await blankJpeg());
    expect(first.status).toBe(422);
    expect(first.body).toMatchObject({ outcome: 'retry', reason: 'no_face', attempts_left: 1 });
    expect((await decision(s.session_id)).status).toBe('In Progress');
    const page = { status: 200, html: '', config: { uploadUrl: `/session/${s.session_token}/capture`, uploadToken: first.body.upload_token } };
    const last = await captureOnce(s.url, await blankJpeg(), page);
    expect(last.body).toMatchObject({ outcome: 'complete', status: 'Approved' }); // ip-only: no face feature to fail
    const r = await newSession({ workflow_id: 'face-only', vendor_data: 'blank-2', portrait_image: await portraitB64('amy', 2) });
    let res = await captureOnce(r.url, await blankJpeg());
    for (let i = 0; i < 2 && res.status === 422; i++) {
      res = await captureOnce(r.url, await blankJpeg(), { status: 200, html: '', config: { uploadUrl: `/session/${r.session_token}/capture`, uploadToken: res.body.upload_token } });
    }
    expect(res.body.status).toBe('Declined');
    expect((await decision(r.session_id)).face_matches[0].warnings[0]).toMatchObject({ risk: 'NO_FACE_DETECTED', log_type: 'error' });
  });

  it('retains media only when the workflow says so, behind the API key', async () => {
    const s = await newSession({ workflow_id: 'face-retain', portrait_image: await portraitB64('amy', 2) });
    await captureOnce(s.url, await selfieJpeg('amy', 1));
    const fm = (await decision(s.session_id)).face_matches[0];
    expect(fm.target_image).toBe(`${v.publicUrl}/v3/session/${s.session_id}/media/capture.jpg`);
    expect(fm.source_image).toBe(`${v.publicUrl}/v3/session/${s.session_id}/media/portrait.jpg`);
    expect((await fetch(fm.target_image)).status).toBe(403);
    const img = await fetch(fm.target_image, { headers: { 'x-api-key': API_KEY } });
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await img.arrayBuffer()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    await api(v, 'DELETE', `/v3/session/${s.session_id}/delete/`);
    expect(await v.store.get(K.media(s.session_id, 'capture.jpg'))).toBeUndefined();

    const plain = await newSession({ workflow_id: 'face-only', portrait_image: await portraitB64('amy', 2) });
    await captureOnce(plain.url, await selfieJpeg('amy', 1));
    expect(await v.store.get(K.media(plain.session_id, 'capture.jpg'))).toBeUndefined();
    expect((await api(v, 'GET', `/v3/session/${plain.session_id}/media/capture.jpg`)).status).toBe(404);
    // The session record keeps a sealed template of the portrait, never the image.
    expect(JSON.stringify(await v.store.get(K.session(plain.session_id)))).not.toMatch(/\/9j\//);
  });
});

describe('PASSIVE liveness (still + burst upload under screen light; plain burst with screen light off)', () => {
  const amyPortrait = () => portraitB64('amy', 2);

  it('a synthetic bona fide burst of amy is Approved by LIVENESS + FACE_MATCH against her portrait', async () => {
    const s = await newSession({ workflow_id: 'reauth', vendor_data: 'amy-live', portrait_image: await amyPortrait() });
    const res = await captureScreenLight(s.url, 'bona_fide', 3, 'amy');
    expect(res.body).toMatchObject({ outcome: 'complete', status: 'Approved' });
    const d = await decision(s.session_id);
    expect(d.liveness_checks[0]).toMatchObject({ node_id: 'liveness_1', status: 'Approved', method: 'PASSIVE' });
    expect(d.liveness_checks[0].warnings.every((w: { node_id: string }) => w.node_id === 'liveness_1')).toBe(true);
    expect(d.face_matches[0].status).toBe('Approved');
  });

  for (const [kind, seed] of [['monitor_photo', 1], ['phone_photo', 2], ['print_static', 1]] as const) {
    it(`a ${kind} attack burst of amy is Declined by liveness`, async () => {
      const s = await newSession({ workflow_id: 'reauth', vendor_data: 'amy-attack', portrait_image: await amyPortrait() });
      const res = await captureScreenLight(s.url, kind, seed, 'amy');
      expect(res.body).toMatchObject({ outcome: 'complete', status: 'Declined' });
      const live = (await decision(s.session_id)).liveness_checks[0];
      expect(live.status).toBe('Declined');
      const risks = live.warnings.map((w: { risk: string }) => w.risk);
      expect(risks.includes('LIVENESS_FACE_ATTACK') || risks.includes('LOW_LIVENESS_SCORE')).toBe(true);
      expect(live.warnings.every((w: { node_id: string }) => w.node_id === 'liveness_1')).toBe(true);
    });
  }

  it('a LIVENESS workflow that gets a still without a burst declines with LIVENESS_BURST_MISSING', async () => {
    const s = await newSession({ workflow_id: 'reauth', vendor_data: 'amy-still', portrait_image: await amyPortrait() });
    const res = await captureOnce(s.url, await selfieJpeg('amy', 1));
    expect(res.body).toMatchObject({ outcome: 'complete', status: 'Declined' });
    const live = (await decision(s.session_id)).liveness_checks[0];
    expect(live).toMatchObject({ status: 'Declined', score: 0 });
    expect(live.warnings).toEqual([expect.objectContaining({ risk: 'LIVENESS_BURST_MISSING', log_type: 'error', node_id: 'liveness_1' })]);
  });

  it('screen light off: a plain burst (no challenge) of amy is Approved', async () => {
    const s = await newSession({ workflow_id: 'reauth-plain', vendor_data: 'amy-plain', portrait_image: await amyPortrait() });
    const page = await openPage(s.url);
    expect(page.config).toMatchObject({ liveness: 'PASSIVE', screenLight: false });
    const res = await captureBurst(s.url, await syntheticBurst('bona_fide', 3, 'amy'), page);
    expect(res.body).toMatchObject({ outcome: 'complete', status: 'Approved' });
    const live = (await decision(s.session_id)).liveness_checks[0];
    expect(live).toMatchObject({ status: 'Approved', method: 'PASSIVE' });
  });

  it('refuses oversize, too many frames and malformed bursts, and a replayed grant (screen light off)', async () => {
    const good = await syntheticBurst('bona_fide', 3, 'amy');
    const s = await newSession({ workflow_id: 'reauth-plain', vendor_data: 'amy-format', portrait_image: await amyPortrait() });
    const status = async (u: Parameters<typeof captureBurst>[1]) => (await captureBurst(s.url, u)).status;
    const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(101 * 1024)]);
    expect(await status({ ...good, frames: [big, ...good.frames.slice(1)] })).toBe(413);
    expect(await status({ ...good, still: Buffer.concat([good.still, Buffer.alloc(1024 * 1024)]) })).toBe(413);
    const many = Array.from({ length: 19 }, (_, i) => good.frames[i % good.frames.length]!);
    expect(await status({ ...good, frames: many, times: many.map((_, i) => i * 80) })).toBe(400);
    expect(await status({ ...good, times: good.times.slice(1) })).toBe(400);
    expect(await status({ ...good, times: [...good.times].reverse() })).toBe(400);
    expect(await status({ ...good, captureIndex: 99 })).toBe(400);
    expect(await status({ ...good, frames: [facePng('amy', 1), ...good.frames.slice(1)] })).toBe(400);
    // A tiny JPEG that declares a huge image, and frames of two sizes.
    const huge = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).jpeg({ quality: 10 }).toBuffer();
    expect(huge.length).toBeLessThan(100 * 1024);
    expect(await status({ ...good, frames: [huge, ...good.frames.slice(1)] })).toBe(413);
    const smaller = await sharp(good.frames[0]!).resize(160, 120).jpeg().toBuffer();
    expect(await status({ ...good, frames: [smaller, ...good.frames.slice(1)] })).toBe(400);
    const noStill = burstForm(good);
    noStill.delete('still');
    expect(await status(noStill)).toBe(400);
    const page = await openPage(s.url);
    const garbage = await fetch(v.url + page.config.uploadUrl, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz', 'x-upload-token': page.config.uploadToken }, body: 'not multipart at all' });
    expect(garbage.status).toBe(400);

    // The grant is single-use: the good upload completes once, its replay is refused.
    const fresh = await openPage(s.url);
    expect((await captureBurst(s.url, good, fresh)).body.status).toBe('Approved');
    expect((await captureBurst(s.url, good, fresh)).status).toBe(409);
  });
});
