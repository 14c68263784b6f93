// PASSIVE with screen light through the verifier's page endpoints (no browser): the page asks for
// its light pattern (a server-chosen, single-use challenge bound to the page load), records the
// burst under it and uploads it naming the challenge. The answers are synthetic sessions rendered
// for the issued pattern (test/synthetic), judged by the real face engine and the liveness
// workers. Uploads without the challenge, for another challenge, too late, or of the wrong shape are
// refused; a face lit by the pattern is Approved and a video replay is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScreenLightChallenge } from '../../src/liveness/index.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { isIssuableScreenPattern, randomScreenPattern } from '../../src/liveness/signals/screen-light.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { K } from '../../src/verifier/keys.ts';
import { api, burstForm, burstTime, captureBurst, openPage, requestChallenge, syntheticBurst, startTestVerifier } from '../helpers/verifier.ts';
import type { OpenedPage, TestVerifier } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 2 });
let v: TestVerifier;

beforeAll(async () => {
  await face.warm();
  v = await startTestVerifier({ face });
}, 60_000);
afterAll(async () => {
  await v?.stop();
  await face.close();
});

// One vendor_data per session: the verifier hands an unfinished session of the same vendor_data back,
// and its challenge count (and state) would then carry from one test into the next.
let sessions = 0;
async function newSession(workflowId = 'screen-light') {
  const { status, body } = await api(v, 'POST', '/v3/session/', { workflow_id: workflowId, vendor_data: `someone-${++sessions}` });
  expect(status).toBe(201);
  return body as { session_id: string; url: string; session_token: string };
}

// The server draws each pattern at random; a test's outcome must not depend on that draw (a live
// face's rank among all patterns varies with the pattern, and a replay gets credit for about 1 pattern
// in 1,000). So the tests that judge a burst overwrite the stored challenge's pattern with a fixed
// issuable one before rendering the answer, as the timeout test overwrites its time.
const FIXED = randomScreenPattern(seededRng(2024));
// a genuine answer made beforehand for another issuable pattern (fixed too)
const OTHER = randomScreenPattern(seededRng(77));

/** Ask for the page's challenge and pin its pattern to `pattern` in the store (the verifier judges what it stored). */
async function pinnedChallenge(url: string, page: OpenedPage, pattern: readonly number[]): Promise<ScreenLightChallenge> {
  const issued = (await requestChallenge(url, page)).body.challenge as ScreenLightChallenge;
  const pinned = { ...issued, pattern: [...pattern] };
  const stored = await v.store.get<ScreenLightChallenge>(K.challenge(page.config.uploadToken));
  await v.store.set(K.challenge(page.config.uploadToken), { ...stored!, pattern: [...pattern] } as never, { ttl: 300 });
  return pinned;
}

/** The page's whole PASSIVE capture with a synthetic session of `kind` rendered for the pinned pattern. */
async function capturePinned(url: string, kind: Parameters<typeof syntheticBurst>[0], seed: number, identity: string, pattern: readonly number[] = FIXED) {
  const page = await openPage(url);
  const asked = Date.now();
  const challenge = await pinnedChallenge(url, page, pattern);
  const upload = { ...(await syntheticBurst(kind, seed, identity, pattern)), challengeId: challenge.id };
  // a page cannot answer before its burst is over: the server refuses sooner answers
  await burstTime(asked, challenge);
  return { ...(await captureBurst(url, upload, page)), challenge, upload, page };
}

const decision = async (id: string) => (await api(v, 'GET', `/v3/session/${id}/decision/`)).body;
const check = async (id: string) => (await decision(id)).liveness_checks[0];
const risks = async (id: string): Promise<string[]> => (await check(id)).warnings.map((w: { risk: string }) => w.risk);

describe('the challenge endpoint for PASSIVE with screen light', () => {
  it('issues a light pattern once per page load, bound to its upload grant', async () => {
    const s = await newSession();
    const page = await openPage(s.url);
    expect(page.config).toMatchObject({ liveness: 'PASSIVE', screenLight: true, challengeUrl: `/session/${s.session_token}/challenge` });
    const first = await requestChallenge(s.url, page);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const ch = first.body.challenge as ScreenLightChallenge;
    expect(ch).toMatchObject({ v: 1, method: 'PASSIVE', frames: 18, intervalMs: 80, captureIndex: 9, light: [255, 255, 255], dark: [64, 64, 64] });
    expect(ch.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // whatever the draw: one of the issuable patterns (18 frames, WCAG's flash limit, both levels)
    expect(isIssuableScreenPattern(ch.pattern)).toBe(true);
    expect((await v.store.get<ScreenLightChallenge>(K.challenge(page.config.uploadToken)))?.id).toBe(ch.id);
    // one per page load: a client may not shop for a convenient pattern
    expect((await requestChallenge(s.url, page)).status).toBe(409);
    const again = await openPage(s.url);
    const second = await requestChallenge(s.url, again);
    expect(second.status).toBe(200);
    expect(second.body.challenge.id).not.toBe(ch.id);
  });

  it('issues at most max_capture_attempts challenges per session, page reloads included', async () => {
    // otherwise a client reloads for new patterns, holds each against its recording offline and
    // answers the one that fits; the test workflow keeps the default max_capture_attempts, 3
    const s = await newSession();
    for (let k = 0; k < 3; k++) expect((await requestChallenge(s.url, await openPage(s.url))).status).toBe(200);
    const page = await openPage(s.url);
    const refused = await requestChallenge(s.url, page);
    expect(refused.status).toBe(429);
    // the page shows its "start again" screen for this outcome
    expect(refused.body).toMatchObject({ outcome: 'expired' });
    expect(await v.store.get(K.challenge(page.config.uploadToken))).toBeUndefined();
    // an upload on that page load has no challenge to answer
    expect((await captureBurst(s.url, await syntheticBurst('bona_fide', 3, 'amy', FIXED), page)).body.status).toBe('Declined');
    expect(await risks(s.session_id)).toEqual(['CHALLENGE_INVALID']);
    // another session has its own count
    const t = await newSession();
    expect((await requestChallenge(t.url, await openPage(t.url))).status).toBe(200);
  }, 60_000);

  it('never more than 3 challenges per session, even where the workflow allows more capture attempts', async () => {
    // the per-challenge chance (5 of 15,260 patterns) is a third of the session's 1 in 1,000
    const s = await newSession('screen-light-5');
    for (let k = 0; k < 3; k++) expect((await requestChallenge(s.url, await openPage(s.url))).status).toBe(200);
    const refused = await requestChallenge(s.url, await openPage(s.url));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ outcome: 'expired' });
  }, 60_000);

  it('a PASSIVE workflow with screen light off has no challenge', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'reauth-plain', vendor_data: 'plain', portrait_image: (await syntheticBurst('bona_fide', 3, 'amy')).still.toString('base64') });
    const page = await openPage(s.url);
    expect(page.config).toMatchObject({ liveness: 'PASSIVE', screenLight: false });
    const res = await requestChallenge(s.url, page);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/does not use a liveness challenge/);
  });
});

describe('PASSIVE with screen light: the upload', () => {
  it('a live face lit by the issued pattern is Approved; the same answer again is refused', async () => {
    const s = await newSession();
    const r = await capturePinned(s.url, 'bona_fide', 3, 'amy');
    const live = await check(s.session_id);
    if (r.body.status !== 'Approved') console.log('bona fide refused:', JSON.stringify(live));
    expect(r.body).toMatchObject({ outcome: 'complete', status: 'Approved' });
    expect(live).toMatchObject({ method: 'PASSIVE', status: 'Approved' });
    expect(await v.store.get(K.challengeUsed(r.challenge.id))).toBe(1);

    // the same upload with the same grant: spent
    expect((await captureBurst(s.url, r.upload, r.page)).status).toBe(409);
    // in a new session's page load that asked for its own pattern: it names another challenge
    const t = await newSession();
    const page = await openPage(t.url);
    expect((await requestChallenge(t.url, page)).status).toBe(200);
    expect((await captureBurst(t.url, r.upload, page)).body.status).toBe('Declined');
    expect(await risks(t.session_id)).toEqual(['CHALLENGE_INVALID']);
    // in a page load that asked for none
    const u = await newSession();
    expect((await captureBurst(u.url, r.upload)).body.status).toBe('Declined');
    expect(await risks(u.session_id)).toEqual(['CHALLENGE_INVALID']);
    // a genuine recording made beforehand for another pattern, sent under a new page load's
    // challenge: the face followed the wrong light
    const w = await newSession();
    const page2 = await openPage(w.url);
    const asked = Date.now();
    const issued = await pinnedChallenge(w.url, page2, FIXED);
    const prepared = await syntheticBurst('bona_fide', 3, 'amy', OTHER);
    await burstTime(asked, issued);
    const relabelled = await captureBurst(w.url, { ...prepared, challengeId: issued.id }, page2);
    expect(relabelled.body.status, JSON.stringify(await check(w.session_id))).not.toBe('Approved');
    // judged on its light, not refused as early
    expect(await risks(w.session_id)).not.toContain('CHALLENGE_INVALID');
  }, 60_000);

  it('a video replayed on a phone is not Approved', async () => {
    const s = await newSession();
    const r = await capturePinned(s.url, 'phone_video', 1, 'amy');
    const live = await check(s.session_id);
    expect(r.body.outcome).toBe('complete');
    expect(r.body.status, JSON.stringify(live)).not.toBe('Approved');
    expect(live.status).not.toBe('Approved');
  }, 60_000);

  it('a burst without challenge_id is Declined with CHALLENGE_INVALID, and spends the challenge', async () => {
    const s = await newSession();
    const page = await openPage(s.url);
    const ch = (await requestChallenge(s.url, page)).body.challenge as ScreenLightChallenge;
    const res = await captureBurst(s.url, await syntheticBurst('bona_fide', 3, 'amy', FIXED), page);
    expect(res.body).toMatchObject({ outcome: 'complete', status: 'Declined' });
    const live = await check(s.session_id);
    expect(live).toMatchObject({ method: 'PASSIVE', status: 'Declined', score: 0 });
    expect(live.warnings).toEqual([expect.objectContaining({ feature: 'LIVENESS', risk: 'CHALLENGE_INVALID', log_type: 'error', node_id: 'liveness_1' })]);
    expect(await v.store.get(K.challenge(page.config.uploadToken))).toBeUndefined();
  }, 60_000);

  it('an answer later than the burst + upload slack is Declined with CHALLENGE_TIMEOUT', async () => {
    const s = await newSession();
    const page = await openPage(s.url);
    const ch = (await requestChallenge(s.url, page)).body.challenge as ScreenLightChallenge;
    // as if the page had asked for it 30 s ago (the burst takes ~1 s, the slack is 20 s)
    await v.store.set(K.challenge(page.config.uploadToken), { ...ch, issuedAt: Date.now() - 30_000 } as never, { ttl: 300 });
    const res = await captureBurst(s.url, { ...(await syntheticBurst('bona_fide', 3, 'amy', FIXED)), challengeId: ch.id }, page);
    expect(res.body.status).toBe('Declined');
    expect(await risks(s.session_id)).toEqual(['CHALLENGE_TIMEOUT']);
  }, 60_000);

  it('a burst of another shape than the challenge asked for is a 400', async () => {
    const s = await newSession();
    const good = await syntheticBurst('bona_fide', 3, 'amy', FIXED);
    const attempt = async (mangle: (u: typeof good & { challengeId: string }) => FormData | typeof good) => {
      const page = await openPage(s.url);
      const ch = (await requestChallenge(s.url, page)).body.challenge as ScreenLightChallenge;
      return captureBurst(s.url, mangle({ ...good, challengeId: ch.id }), page);
    };
    const fewer = await attempt((u) => ({ ...u, frames: u.frames.slice(0, 17), times: u.times.slice(0, 17) }));
    expect(fewer.status).toBe(400);
    expect(fewer.body.detail).toMatch(/18 frames/);
    const index = await attempt((u) => ({ ...u, captureIndex: 8 }));
    expect(index.status).toBe(400);
    expect(index.body.detail).toMatch(/capture_index must be 9/);
    const badId = await attempt((u) => burstForm({ ...u, challengeId: 'not a challenge id!' }));
    expect(badId.status).toBe(400);
    // nothing was judged: the session still takes a capture
    expect((await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body.status).toBe('In Progress');
  }, 60_000);
});
