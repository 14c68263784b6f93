// The demo relying party is an ordinary OIDC client: its button starts a PKCE code flow at the IdP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelyingParty } from '../../examples/relying-party/server.ts';
import { freePort, startTestServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/env.ts';

let idp: TestServer;
let rp: { url: string; close: () => Promise<void> };
const tmp = tempDir('rp');

beforeAll(async () => {
  const rpPort = await freePort();
  const clients = path.join(tmp.dir, 'clients.json');
  writeFileSync(clients, JSON.stringify([{ client_id: 'demo-rp', redirect_uris: [`http://localhost:${rpPort}/callback`], token_endpoint_auth_method: 'none', first_party: true }]));
  idp = await startTestServer({ CLIENTS_FILE: clients });
  rp = await startRelyingParty({ issuer: idp.config.issuer, port: rpPort, clientId: 'demo-rp', host: '127.0.0.1' });
});
afterAll(async () => {
  await rp.close();
  await idp.stop();
  tmp.remove();
});

describe('demo relying party', () => {
  it('shows a "Sign in with selfie" button that starts a PKCE authorization request', async () => {
    const home = await (await fetch(rp.url.replace('localhost', '127.0.0.1'))).text();
    expect(home).toContain('Sign in with selfie');
    const login = await fetch(`${rp.url.replace('localhost', '127.0.0.1')}/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const auth = new URL(login.headers.get('location')!);
    expect(auth.origin + auth.pathname).toBe(`${idp.config.issuer}/auth`);
    expect(auth.searchParams.get('client_id')).toBe('demo-rp');
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('scope')).toBe('openid email profile');
    // The IdP accepts it and shows its login page.
    const atIdp = await fetch(auth, { redirect: 'manual' });
    expect(atIdp.headers.get('location')).toMatch(/^\/interaction\//);
  });

  it('has an acr selector: the chosen level goes out as acr_values; an unknown one is refused', async () => {
    const base = rp.url.replace('localhost', '127.0.0.1');
    const home = await (await fetch(base)).text();
    for (const v of ['face', 'face-active', 'mfa', 'passkey']) expect(home).toContain(`value="urn:selfie-idp:acr:${v}"`);
    const login = await fetch(`${base}/login?acr=${encodeURIComponent('urn:selfie-idp:acr:mfa')}`, { redirect: 'manual' });
    expect(new URL(login.headers.get('location')!).searchParams.get('acr_values')).toBe('urn:selfie-idp:acr:mfa');
    const plain = await fetch(`${base}/login?acr=`, { redirect: 'manual' });
    expect(new URL(plain.headers.get('location')!).searchParams.has('acr_values')).toBe(false);
    const bad = await fetch(`${base}/login?acr=urn%3Aexample%3Aother`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
  });

  it('a callback without its transaction cookie is refused with a page, not a crash', async () => {
    const res = await fetch(`${rp.url.replace('localhost', '127.0.0.1')}/callback?code=x&state=y`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign-in expired');
  });
});
