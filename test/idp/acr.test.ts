// acr values (docs/signin.md, "acr and amr"): advertised, honoured from acr_values and the acr
// claims request, returned in the ID token, and an unreachable one answered with the standard
// error at the client. Real servers against the Didit double (the test decides each verdict).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { Accounts } from '../../src/idp/accounts.ts';
import { ACR, acrToReturn, amrFor, requestedAcrs } from '../../src/idp/signin/acr.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, continueWithSelfie, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
let double: DiditDouble;
let server: TestServer;
let passiveOnly: TestServer;

async function start(extra: Record<string, string>) {
  const s = await startTestServer(
    {
      ...remoteModeEnv(double, { reauthWorkflowId: 'wf-passive' }),
      ...extra,
    },
    // acr alone decides here: every test browser is a new device, which the risk policy would step up.
    { signin: { lookupsPerIpPerHour: 1000 }, config: { risk: { newDevice: 'PASSIVE' } } },
  );
  const accounts = new Accounts(s.store);
  await accounts.markEnrolled((await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id);
  return s;
}

beforeAll(async () => {
  double = await startDiditDouble();
  server = await start({ DIDIT_REAUTH_ACTIVE_3D_WORKFLOW_ID: 'wf-active' });
  passiveOnly = await start({});
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await passiveOnly?.stop();
  await double?.close();
});

const sessionOf = (captureUrl: string) => {
  const token = new URL(captureUrl).pathname.split('/').pop();
  return [...double.sessions.values()].find((x) => x.session_token === token)!;
};

/** Authorization request → (login page → "Continue with a selfie") → Approved → tokens, or where it ended. */
async function signIn(extra: Record<string, string>, browser = new Browser(), on = server) {
  const issuer = on.config.issuer;
  const config = await discover(issuer, TEST_CLIENTS[0]!);
  const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com', ...extra });
  const prompt = await browser.follow(url, issuer);
  if (!prompt.url.startsWith(issuer)) return { ended: new URL(prompt.url), browser };
  const press = await continueWithSelfie(browser, issuer, prompt);
  const capture = press.headers.get('location')!;
  if (!capture.startsWith(double.url)) return { ended: new URL(capture, issuer), browser };
  const session = sessionOf(capture);
  await double.complete(session.session_id, 'Approved');
  const back = (await browser.fetch(capture)).headers.get('location')!;
  const done = await browser.follow(back, issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
  return { claims: tokens.claims()!, workflow: session.workflow_id, browser };
}

describe('acr and amr', () => {
  it('pure rules: request order, satisfaction, amr per RFC 8176', () => {
    expect(requestedAcrs({ acr_values: `${ACR.mfa} ${ACR.face}`, claims: JSON.stringify({ id_token: { acr: { values: [ACR.faceActive] } } }) })).toEqual([ACR.faceActive, ACR.mfa, ACR.face]);
    expect(acrToReturn([], { face: { method: 'PASSIVE' } })).toBe(ACR.face);
    expect(acrToReturn([], { face: { method: 'ACTIVE_3D' } })).toBe(ACR.faceActive);
    expect(acrToReturn([ACR.face], { face: { method: 'ACTIVE_3D' } })).toBe(ACR.face);
    expect(acrToReturn([ACR.faceActive], { face: { method: 'PASSIVE' } })).toBeUndefined();
    expect(acrToReturn([ACR.mfa], { face: { method: 'PASSIVE' }, passkey: { hardware: true, userVerified: true } })).toBe(ACR.mfa);
    expect(acrToReturn([ACR.passkey], { face: { method: 'PASSIVE' } })).toBeUndefined();
    expect(amrFor({ face: { method: 'PASSIVE' } })).toEqual(['face']);
    expect(amrFor({ face: { method: 'PASSIVE' }, passkey: { hardware: true, userVerified: true } })).toEqual(['face', 'hwk', 'user', 'mfa']);
    expect(amrFor({ passkey: { hardware: false, userVerified: false } })).toEqual(['swk']);
  });

  it('discovery advertises exactly the four values', async () => {
    const d = await (await fetch(`${server.config.issuer}/.well-known/openid-configuration`)).json();
    expect(d.acr_values_supported).toEqual([ACR.face, ACR.faceActive, ACR.mfa, ACR.passkey]);
    expect(d.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr']));
  });

  it('no request: the passive selfie, acr face, amr face', async () => {
    const r = await signIn({});
    expect(r.workflow).toBe('wf-passive');
    expect(r.claims).toMatchObject({ acr: ACR.face, amr: ['face'] });
  });

  it('acr_values face-active: the challenge workflow, acr face-active', async () => {
    const r = await signIn({ acr_values: ACR.faceActive });
    expect(r.workflow).toBe('wf-active');
    expect(r.claims).toMatchObject({ acr: ACR.faceActive, amr: ['face'] });
  });

  it('an essential acr claims request is met exactly (no prompt loop)', async () => {
    // passkey is not for this client: the next value, face-active, is the target.
    const r = await signIn({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.passkey, ACR.faceActive] } } }) });
    expect(r.workflow).toBe('wf-active');
    expect(r.claims).toMatchObject({ acr: ACR.faceActive });
  });

  it('a preference list falls back to the first value that can be reached', async () => {
    const r = await signIn({ acr_values: `urn:example:loa:4 ${ACR.face}` });
    expect(r.claims).toMatchObject({ acr: ACR.face, amr: ['face'] });
  });

  /** The passkey page of an mfa request; its options request (the page's script) for an email. */
  async function passkeyPage(extra: Record<string, string>) {
    const issuer = server.config.issuer;
    const browser = new Browser();
    const { url } = await authorizationRequest(await discover(issuer, TEST_CLIENTS[0]!), REDIRECT, { login_hint: 'ada@example.com', ...extra });
    const page = await browser.follow(url, issuer);
    const html = await page.res.text();
    expect(html).toContain('>Use passkey</button>');
    const uid = /\/interaction\/([^/]+)\/passkey\/auth\/options/.exec(html)![1]!;
    const csrf = /data-csrf="([^"]+)"/.exec(html)![1]!;
    const options = (email: string, token = csrf) =>
      browser.fetch(`${issuer}/interaction/${uid}/passkey/auth/options`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': token },
        body: JSON.stringify({ email }),
      });
    return { browser, issuer, options };
  }

  it('mfa for an account without a passkey: the passkey page, then unmet at the client once the account is known', async () => {
    const { browser, issuer, options } = await passkeyPage({ acr_values: ACR.mfa });
    expect((await options('ada@example.com', 'forged')).status).toBe(403);
    const sessions = double.sessions.size;
    const { next } = await (await options('ada@example.com')).json();
    const ended = await browser.follow(new URL(next, issuer), issuer);
    expect(new URL(ended.url).searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(double.sessions.size).toBe(sessions);
  });

  it('"mfa face" for an account without a passkey falls back to the selfie', async () => {
    const { options } = await passkeyPage({ acr_values: `${ACR.mfa} ${ACR.face}` });
    const { next } = await (await options('ada@example.com')).json();
    expect(sessionOf(next).workflow_id).toBe('wf-passive');
  });

  it('a session with acr face steps up for face-active; prompt=none gets login_required', async () => {
    const first = await signIn({});
    expect(first.claims!.acr).toBe(ACR.face);
    const issuer = server.config.issuer;
    const config = await discover(issuer, TEST_CLIENTS[0]!);
    const silent = await authorizationRequest(config, REDIRECT, { acr_values: ACR.faceActive, prompt: 'none' });
    const ended = await first.browser.follow(silent.url, issuer);
    expect(new URL(ended.url).searchParams.get('error')).toBe('login_required');
    // Without prompt=none: a new selfie with the challenge, not the session's face.
    const stepped = await signIn({ acr_values: ACR.faceActive }, first.browser);
    expect(stepped.workflow).toBe('wf-active');
    expect(stepped.claims).toMatchObject({ acr: ACR.faceActive, sub: first.claims!.sub });
    // The face-active session satisfies a later request for face without a prompt.
    const again = await authorizationRequest(config, REDIRECT, { acr_values: ACR.face, prompt: 'none' });
    const quiet = await first.browser.follow(again.url, issuer);
    expect(new URL(quiet.url).searchParams.get('code')).toBeTruthy();
  });

  for (const [label, extra] of [
    ['passkey for a client whose metadata does not allow it', { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR.passkey } } }) }],
    ['a value that is not ours', { acr_values: 'urn:example:loa:4' }],
  ] as const) {
    it(`unreachable: ${label} → unmet_authentication_requirements at the client, no selfie`, async () => {
      const sessions = double.sessions.size;
      const r = await signIn(extra);
      expect(r.ended?.origin + r.ended!.pathname).toBe(REDIRECT);
      expect(r.ended!.searchParams.get('error')).toBe('unmet_authentication_requirements');
      expect(r.ended!.searchParams.get('state')).toBeTruthy();
      expect(double.sessions.size).toBe(sessions);
    });
  }

  it('face-active with no challenge workflow configured is unreachable too', async () => {
    double.setWebhookUrl(`${passiveOnly.config.issuer}/webhooks/didit`);
    try {
      const r = await signIn({ acr_values: ACR.faceActive }, new Browser(), passiveOnly);
      expect(r.ended!.searchParams.get('error')).toBe('unmet_authentication_requirements');
    } finally {
      double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
    }
  });
});
