// The risk policy (docs/signin.md, "Risk policy"): a known device on an unlisted network gets the
// passive selfie; a new device, or an IP in the operator's Tor list, gets ACTIVE_3D, and the
// verification session's metadata says why. Real servers against the Didit double, and the real
// `iplist` CLI; the IP lists are files in a temporary IP_LISTS_DIR.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/idp/accounts.ts';
import { IpLists, parseCidrList } from '../../src/risk/ip-lists.ts';
import { ipAnalysisStep } from '../../src/verifier/steps/ip-analysis.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { DeviceHistory } from '../../src/idp/signin/risk.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, continueWithSelfie, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { runCli } from '../helpers/cli.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
const lists = tempDir('ip-lists');
let double: DiditDouble;
let server: TestServer;

beforeAll(async () => {
  double = await startDiditDouble();
  server = await startTestServer(
    {
      ...remoteModeEnv(double, { reauthWorkflowId: 'wf-passive' }),
      DIDIT_REAUTH_ACTIVE_3D_WORKFLOW_ID: 'wf-active',
      IP_LISTS_DIR: lists.dir,
    },
    { signin: { lookupsPerIpPerHour: 1000 }, config: { risk: { ipListsReloadSeconds: 0 } } },
  );
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
  const accounts = new Accounts(server.store);
  await accounts.markEnrolled((await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await double?.close();
  lists.remove();
});

const sessionOf = (captureUrl: string) => {
  const token = new URL(captureUrl).pathname.split('/').pop();
  return [...double.sessions.values()].find((x) => x.session_token === token)!;
};

/** A sign-in from `browser` up to the capture page; the session the service opened for it. */
async function startSignin(browser: Browser) {
  const issuer = server.config.issuer;
  const { url } = await authorizationRequest(await discover(issuer, TEST_CLIENTS[0]!), REDIRECT, { login_hint: 'ada@example.com', prompt: 'login' });
  const press = await continueWithSelfie(browser, issuer, await browser.follow(url, issuer));
  expect(press.status).toBe(303);
  const capture = press.headers.get('location')!;
  return { capture, session: sessionOf(capture) };
}

async function approve(browser: Browser, capture: string) {
  await double.complete(sessionOf(capture).session_id, 'Approved');
  const back = (await browser.fetch(capture)).headers.get('location')!;
  const done = await browser.follow(back, server.config.issuer);
  expect(done.url.startsWith(REDIRECT)).toBe(true);
}

const cli = (args: string[]) => runCli(args, { IP_LISTS_DIR: lists.dir, DATA_DIR: lists.dir });

describe('risk policy', () => {
  const browser = new Browser();

  it('a new device gets ACTIVE_3D, and the session metadata says why', async () => {
    const { capture, session } = await startSignin(browser);
    expect(session.workflow_id).toBe('wf-active');
    expect(session.metadata).toMatchObject({ purpose: 'login', risk: { method: 'ACTIVE_3D', reasons: ['new_device'] } });
    expect(server.logs.join('')).toMatch(/"reasons":\["new_device"\].*"msg":"risk policy"/);
    await approve(browser, capture);
  });

  it('the same device, now known, on an unlisted network gets PASSIVE', async () => {
    const { session } = await startSignin(browser);
    expect(session.workflow_id).toBe('wf-passive');
    expect(session.metadata).toMatchObject({ risk: { method: 'PASSIVE', reasons: ['known_device'] } });
  });

  it('a known device from a Tor-listed IP gets ACTIVE_3D; the list is reloaded when it changes', async () => {
    const bad = path.join(lists.dir, 'bad.txt');
    writeFileSync(bad, '10.0.0.0/8\n127.0.0.1/33\n');
    const refused = await cli(['iplist', 'import', '--list', 'tor', '--file', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad}:2: "127.0.0.1/33" is not an IP address or CIDR range`);
    const tor = path.join(lists.dir, 'exits.txt');
    writeFileSync(tor, '# exit nodes\n203.0.113.7\n127.0.0.0/24\n2001:db8::/32\n');
    const imported = await cli(['iplist', 'import', '--list', 'tor', '--file', tor]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ list: 'tor', entries: 3 });
    expect(JSON.parse((await cli(['iplist', 'check', '127.0.0.1'])).stdout)).toEqual({ ip: '127.0.0.1', tor: true, vpn: false, datacenter: false });

    const listed = await startSignin(browser);
    expect(listed.session.workflow_id).toBe('wf-active');
    expect(listed.session.metadata).toMatchObject({ risk: { method: 'ACTIVE_3D', reasons: ['known_device', 'ip_tor'] } });

    writeFileSync(tor, '203.0.113.7\n');
    expect((await cli(['iplist', 'import', '--list', 'tor', '--file', tor])).code).toBe(0);
    const unlisted = await startSignin(browser);
    expect(unlisted.session.workflow_id).toBe('wf-passive');
  });

  it('an acr request raises the method, never lowers it', async () => {
    const issuer = server.config.issuer;
    const { url } = await authorizationRequest(await discover(issuer, TEST_CLIENTS[0]!), REDIRECT, { login_hint: 'ada@example.com', prompt: 'login', acr_values: 'urn:selfie-idp:acr:face-active' });
    const press = await continueWithSelfie(browser, issuer, await browser.follow(url, issuer));
    expect(sessionOf(press.headers.get('location')!).metadata).toMatchObject({ risk: { method: 'ACTIVE_3D', reasons: ['known_device', 'acr_requested'] } });
  });

  it('CLI: bad usage is refused with a clear message', async () => {
    const r = await cli(['iplist', 'import', '--list', 'proxies', '--file', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--list must be one of tor, vpn, datacenter');
  });
});

describe('device history', () => {
  it("strangers' starts from new browsers never push an approved device out (probe: 20 starts evicted it)", async () => {
    const store = await RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: uniquePrefix('devices') });
    try {
      const devices = new DeviceHistory(store, 20);
      await devices.approved('acct', 'trusted');
      for (let i = 0; i < 25; i++) await devices.seen('acct', `stranger-${i}`);
      expect((await devices.get('acct', 'trusted'))?.lastApprovedAt).toEqual(expect.any(Number));
      expect(Object.keys(await devices.all('acct'))).toHaveLength(20);
    } finally {
      await store.close();
    }
  });
});

describe('IP lists', () => {
  it('parse IPv4 and IPv6 ranges and name the bad line', () => {
    expect(parseCidrList('1.2.3.0/24 # x\n\n::1\n', 'f').entries).toEqual(['1.2.3.0/24', '::1/128']);
    expect(() => parseCidrList('1.2.3.4\nexample.com\n', 'f')).toThrow('f:2: "example.com" is not an IP address or CIDR range');
  });

  it('a broken reload keeps the previous list and is reported; IPv4-mapped addresses match', () => {
    const dir = tempDir('ip-lists-reload');
    try {
      mkdirSync(dir.dir, { recursive: true });
      writeFileSync(path.join(dir.dir, 'vpn.txt'), '198.51.100.0/24\n');
      const errors: string[] = [];
      const ipLists = new IpLists(dir.dir, { checkEveryMs: 0, onError: (m) => errors.push(m) });
      expect(ipLists.classify('::ffff:198.51.100.9')).toEqual({ tor: false, vpn: true, datacenter: false });
      writeFileSync(path.join(dir.dir, 'vpn.txt'), 'not an address, longer than before\n');
      expect(ipLists.classify('198.51.100.9').vpn).toBe(true);
      expect(errors[0]).toContain('IP list vpn not reloaded, the previous one stays');
    } finally {
      dir.remove();
    }
  });

  it("the embedded verifier's ip_analyses are filled from the same lists; unknown without them", async () => {
    const dir = tempDir('ip-lists-verifier');
    try {
      writeFileSync(path.join(dir.dir, 'tor.txt'), '203.0.113.0/24\n');
      writeFileSync(path.join(dir.dir, 'datacenter.txt'), '192.0.2.0/24\n');
      const ipLists = new IpLists(dir.dir);
      const analyse = async (ip: string, withLists = true) => (await ipAnalysisStep({ client: { ip, userAgent: null }, deps: withLists ? { ipLists } : {} }))[0]!;
      expect(await analyse('203.0.113.5')).toMatchObject({ is_vpn_or_tor: true, is_data_center: false });
      expect(await analyse('192.0.2.5')).toMatchObject({ is_vpn_or_tor: false, is_data_center: true });
      expect(await analyse('198.51.100.1')).toMatchObject({ is_vpn_or_tor: false, is_data_center: false });
      expect(await analyse('203.0.113.5', false)).toMatchObject({ is_vpn_or_tor: null, is_data_center: null });
    } finally {
      dir.remove();
    }
  });
});
