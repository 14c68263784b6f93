// Demo relying party: an ordinary OIDC client (openid-client 6, authorization code + PKCE) with a
// "Sign in with selfie" button that shows the ID token's claims after login. It knows nothing
// about faces: any app adopts selfie-idp the same way, by pointing at the discovery document.
//
// Run alone: PATH=node_modules/.bin:$PATH node examples/relying-party/server.ts
// (ISSUER, RP_PORT, RP_CLIENT_ID from the environment; defaults match config/clients.json).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import * as oidc from 'openid-client';

export type RelyingPartyOptions = { issuer: string; port: number; clientId: string; host?: string };

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>
body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
a.button,button{display:inline-block;padding:.7rem 1.2rem;border-radius:8px;background:#1f5eff;color:#fff;text-decoration:none;border:0;font:inherit;font-weight:600;cursor:pointer}
pre{background:#f3f4f6;padding:1rem;border-radius:8px;overflow:auto}</style></head><body>${body}</body></html>`;
}

/** The IdP's four acr values (docs/signin.md, "acr and amr"), for the selector. */
const ACR_CHOICES: Record<string, string> = {
  'urn:selfie-idp:acr:face': 'face: a selfie',
  'urn:selfie-idp:acr:face-active': 'face-active: a selfie with a challenge (head turns)',
  'urn:selfie-idp:acr:mfa': 'mfa: a passkey on this device, then a selfie',
  'urn:selfie-idp:acr:passkey': 'passkey: a passkey alone',
};

export async function startRelyingParty(options: RelyingPartyOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const base = `http://localhost:${options.port}`;
  const redirectUri = `${base}/callback`;
  let config: oidc.Configuration | undefined;
  // Discovery is lazy so the RP can start before (or without) the IdP answering.
  const client = async () =>
    (config ??= await oidc.discovery(new URL(options.issuer), options.clientId, undefined, oidc.None(), {
      execute: options.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
    }));

  const app = new Koa({ keys: [randomBytes(32).toString('hex')] });
  const router = new Router();

  router.get('/', (ctx) => {
    ctx.type = 'html';
    const choices = Object.entries(ACR_CHOICES)
      .map(([value, label]) => `<option value="${esc(value)}">${esc(label)}</option>`)
      .join('');
    ctx.body = page(
      'Demo app',
      `<h1>Demo app</h1><p>This app signs you in through <code>${esc(options.issuer)}</code>.</p>
       <form method="get" action="/login">
         <label for="acr">Level of sign-in to ask for (acr_values)</label>
         <select id="acr" name="acr"><option value="">Default: a selfie</option>${choices}</select>
         <p><button class="button" type="submit">Sign in with selfie</button></p>
       </form>
       <p><a href="/login?prompt=login">Sign in again with a fresh selfie</a></p>
       <p><a href="${esc(options.issuer)}/account">Your passkeys (at the identity provider)</a></p>`,
    );
  });

  router.get('/login', async (ctx) => {
    const acr = typeof ctx.query.acr === 'string' ? ctx.query.acr : '';
    if (acr && !(acr in ACR_CHOICES)) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Error', '<h1>Unknown sign-in level</h1><p><a href="/">Start again</a></p>');
      return;
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    ctx.cookies.set('rp_tx', JSON.stringify({ verifier, state, nonce }), { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 600_000 });
    const url = oidc.buildAuthorizationUrl(await client(), {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(ctx.query.prompt === 'login' ? { prompt: 'login' } : {}),
      ...(acr ? { acr_values: acr } : {}),
    });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const tx = ctx.cookies.get('rp_tx', { signed: true });
    ctx.type = 'html';
    if (!tx) {
      ctx.status = 400;
      ctx.body = page('Error', '<h1>Sign-in expired</h1><p><a href="/">Start again</a></p>');
      return;
    }
    const { verifier, state, nonce } = JSON.parse(tx);
    ctx.cookies.set('rp_tx', null);
    try {
      const tokens = await oidc.authorizationCodeGrant(await client(), new URL(ctx.href), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
      const claims = tokens.claims()!;
      ctx.cookies.set('rp_id_token', tokens.id_token!, { signed: true, httpOnly: true, sameSite: 'lax' });
      ctx.body = page(
        'Signed in',
        `<h1>Signed in</h1><p>The ID token says <strong>acr = ${esc(String(claims.acr))}</strong>, <strong>amr = ${esc(JSON.stringify(claims.amr))}</strong>.</p>
         <h2>ID token claims</h2><pre id="claims">${esc(JSON.stringify(claims, null, 2))}</pre>
         <p><a class="button" href="/logout">Sign out</a></p>`,
      );
    } catch (err) {
      const e = err as { error?: string; error_description?: string; message: string };
      ctx.status = 400;
      ctx.body = page('Sign-in failed', `<h1>Sign-in did not complete</h1><p>${esc(e.error ?? '')} ${esc(e.error_description ?? e.message)}</p><p><a href="/">Start again</a></p>`);
    }
  });

  router.get('/logout', async (ctx) => {
    const idToken = ctx.cookies.get('rp_id_token', { signed: true });
    ctx.cookies.set('rp_id_token', null);
    ctx.redirect(oidc.buildEndSessionUrl(await client(), { post_logout_redirect_uri: `${base}/`, ...(idToken ? { id_token_hint: idToken } : {}) }).href);
  });

  app.use(router.routes());
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (import.meta.main) {
  const rp = await startRelyingParty({
    issuer: process.env.ISSUER ?? 'http://localhost:3000',
    port: Number(process.env.RP_PORT ?? 3001),
    clientId: process.env.RP_CLIENT_ID ?? 'demo-rp',
  });
  console.log(`demo relying party at ${rp.url}`);
}
