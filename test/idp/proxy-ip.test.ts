// TRUST_PROXY_HOPS (issue 17, item 3): behind a proxy the client's address is the entry the last
// trusted proxy appended to X-Forwarded-For, counted from the right. Entries further left are
// written by the client and must change nothing: not the lookup rate limit's bucket, not from_ip
// sent to the verification service, not the verifier's IP analysis.
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { loadVerifierConfig } from '../../src/verifier/config.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { tempDir } from '../helpers/env.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { api, blankJpeg, openPage, startTestVerifier } from '../helpers/verifier.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** An IdP in remote mode against the Didit double (so from_ip is visible), behind `hops` proxies. */
async function idpBehindProxy(hops: string): Promise<{ server: TestServer; double: DiditDouble }> {
  const double = await startDiditDouble();
  const server = await startTestServer({
    TRUST_PROXY: 'true',
    TRUST_PROXY_HOPS: hops,
    ...remoteModeEnv(double),
  });
  closers.push(() => double.close(), () => server.stop());
  const accounts = new Accounts(server.store);
  const ada = (await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id;
  await accounts.markEnrolled(ada);
  return { server, double };
}

/** The login form of a fresh sign-in (no login_hint): its uid, CSRF token and browser. */
async function loginForm(server: TestServer) {
  const issuer = server.config.issuer;
  const { url } = await authorizationRequest(await discover(issuer, TEST_CLIENTS[0]!), REDIRECT);
  const browser = new Browser();
  const { res, url: landed } = await browser.follow(url, issuer);
  const html = await res.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!csrf) throw new Error(`no login form at ${landed}`);
  const uid = /\/interaction\/([^/?]+)/.exec(landed)![1]!;
  const submit = (email: string, forwardedFor: string) =>
    browser.fetch(`${issuer}/interaction/${uid}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      body: new URLSearchParams({ csrf, email }).toString(),
    });
  return { submit };
}

describe('TRUST_PROXY_HOPS configuration', () => {
  it('defaults to 1 for the IdP and the verifier', () => {
    expect(loadConfig({}).trustProxyHops).toBe(1);
    const dir = tempDir('hops-default');
    try {
      expect(loadVerifierConfig({ DATA_DIR: dir.dir }).trustProxyHops).toBe(1);
      expect(loadVerifierConfig({ DATA_DIR: dir.dir, TRUST_PROXY_HOPS: '3' }).trustProxyHops).toBe(3);
    } finally {
      dir.remove();
    }
  });

  it.each(['0', '-1', '1.5', 'two'])('refuses TRUST_PROXY_HOPS=%s naming the variable', (value) => {
    expect(() => loadConfig({ TRUST_PROXY_HOPS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: value })).toThrow(/TRUST_PROXY_HOPS: /);
    expect(() => loadVerifierConfig({ TRUST_PROXY_HOPS: value })).toThrow(/TRUST_PROXY_HOPS: /);
  });
});

describe('IdP behind one proxy (TRUST_PROXY=true, TRUST_PROXY_HOPS=1)', () => {
  it('a client-chosen left-most X-Forwarded-For entry does not escape the lookup rate limit', async () => {
    const { server } = await idpBehindProxy('1');
    const limit = server.config.signin.lookupsPerIpPerHour;
    const form = await loginForm(server);
    const statuses: number[] = [];
    for (let i = 0; i <= limit + 4; i++) {
      // What a client sends through a proxy that appends the address it saw (203.0.113.7).
      const res = await form.submit(`nobody-${i}@example.com`, `10.${i >> 8}.${i & 255}.1, 203.0.113.7`);
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, limit).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(limit)).toEqual(Array(5).fill(429));
    // Another address seen by the proxy has its own budget: the bucket is the right-most entry.
    const other = await form.submit('nobody@example.com', '198.51.100.9');
    expect(other.status).toBe(200);
  });

  it('from_ip sent to the verification service is the right-most entry', async () => {
    const { server, double } = await idpBehindProxy('1');
    const form = await loginForm(server);
    const res = await form.submit('ada@example.com', '6.6.6.6, 203.0.113.7');
    expect(res.status).toBe(303);
    const session = [...double.sessions.values()].at(-1)!;
    expect(session.metadata).toMatchObject({ from_ip: '203.0.113.7' });
  });
});

describe('IdP behind two proxies (TRUST_PROXY_HOPS=2)', () => {
  it('takes the second entry from the right', async () => {
    const { server, double } = await idpBehindProxy('2');
    const form = await loginForm(server);
    const res = await form.submit('ada@example.com', '6.6.6.6, 198.51.100.2, 10.0.0.1');
    expect(res.status).toBe(303);
    expect([...double.sessions.values()].at(-1)!.metadata).toMatchObject({ from_ip: '198.51.100.2' });
  });
});

describe('verifier IP analysis behind a proxy', () => {
  it.each([
    ['1', '6.6.6.6, 203.0.113.7', '203.0.113.7'],
    ['2', '6.6.6.6, 198.51.100.2, 10.0.0.1', '198.51.100.2'],
  ])('TRUST_PROXY_HOPS=%s: X-Forwarded-For "%s" is analysed as %s', async (hops, forwardedFor, expected) => {
    const face = lazyFaceEngine({ poolSize: 1 });
    const v = await startTestVerifier({ face, env: { TRUST_PROXY: 'true', TRUST_PROXY_HOPS: hops } });
    closers.push(() => face.close(), () => v.stop());
    const created = await api(v, 'POST', '/v3/session/', { workflow_id: 'ip-only', vendor_data: `proxy-${hops}` });
    expect(created.status).toBe(201);
    // One page view, as a browser keeps it: a retry carries the new upload token it was given.
    const page = await openPage(created.body.url);
    const upload = async (token: string) => {
      const res = await fetch(v.url + page.config.uploadUrl, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', 'x-upload-token': token, 'x-forwarded-for': forwardedFor },
        body: new Uint8Array(await blankJpeg()),
      });
      return (await res.json()) as { upload_token?: string; status?: string };
    };
    // ip-only allows two attempts; the second (still no face) completes with its IP analysis.
    const first = await upload(page.config.uploadToken);
    expect(first.upload_token).toBeTruthy();
    expect((await upload(first.upload_token!)).status).toBe('Approved');
    const decision = (await api(v, 'GET', `/v3/session/${created.body.session_id}/decision/`)).body;
    expect(decision.ip_analyses[0].ip_address).toBe(expected);
  }, 60_000);
});
