// Two IdP instances on one Redis (the same key prefix, as behind a load balancer) count account
// lookups in one budget per client IP: the store's rate limiter is shared, not per process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/env.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
let servers: TestServer[] = [];

beforeAll(async () => {
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('shared-limits') };
  // One after the other: the first generates the keys in the store, the second loads them.
  servers.push(await startTestServer(env));
  servers.push(await startTestServer(env));
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  servers = [];
});

async function loginForm(server: TestServer) {
  const issuer = server.config.issuer;
  const { url } = await authorizationRequest(await discover(issuer, TEST_CLIENTS[0]!), REDIRECT);
  const browser = new Browser();
  const { res, url: landed } = await browser.follow(url, issuer);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await res.text())![1]!;
  const uid = /\/interaction\/([^/?]+)/.exec(landed)![1]!;
  return (email: string) =>
    browser.fetch(`${issuer}/interaction/${uid}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, email }).toString() });
}

describe('lookup limit across instances', () => {
  it('30 lookups per IP per hour in all, whichever instance answers', async () => {
    const limit = servers[0]!.config.signin.lookupsPerIpPerHour;
    const forms = await Promise.all(servers.map(loginForm));
    const statuses: number[] = [];
    for (let i = 0; i < limit + 4; i++) statuses.push((await forms[i % 2]!(`nobody-${i}@example.com`)).status);
    expect(statuses.slice(0, limit)).toEqual(Array(limit).fill(200));
    expect(statuses.slice(limit)).toEqual([429, 429, 429, 429]);
    const refused = await forms[1]!('again@example.com');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(await refused.text()).toContain('Too many attempts from your network');
  });
});
