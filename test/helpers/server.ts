// Starts the real server (real store, real provider) on a free port for a test file.
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer } from '../../src/server.ts';
import type { RunningServer, ServerOptions } from '../../src/server.ts';
import { TEST_KEYS_ENCRYPTION_KEY, tempDir } from './env.ts';
import { Attempts } from '../../src/idp/signin/attempts.ts';
import type { Attempt } from '../../src/idp/signin/attempts.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { PortraitVault } from '../../src/idp/signin/portraits.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export const TEST_CLIENTS = [
  {
    client_id: 'first-party',
    client_secret: 'first-party-secret-for-tests-only-0123456789',
    redirect_uris: ['http://127.0.0.1:1/cb'],
    post_logout_redirect_uris: ['http://127.0.0.1:1/bye'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
  },
  {
    client_id: 'third-party',
    client_secret: 'third-party-secret-for-tests-only-0123456789',
    redirect_uris: ['http://127.0.0.1:1/cb'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
];

export type TestServer = RunningServer & {
  config: Config;
  logs: string[];
  dataDir: string;
  stop: () => Promise<void>;
  verificationAttempt: (sessionId: string) => Promise<Attempt | undefined>;
};

/** config/default.json with some settings changed, section by section (e.g. a lookup budget for a long suite). */
function changedConfig(dir: string, sections: Record<string, Record<string, unknown>>): string {
  const defaults = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'config', 'default.json'), 'utf8'));
  const file = path.join(dir, 'config.json');
  const merged = { ...defaults };
  for (const [name, values] of Object.entries(sections)) merged[name] = { ...defaults[name], ...values };
  writeFileSync(file, JSON.stringify(merged));
  return file;
}

/** env overrides go through loadConfig exactly like the real environment. */
/** Verification settings for suites that never reach the verification service. */
export const UNREACHABLE_VERIFIER = {
  baseUrl: 'http://127.0.0.1:9',
  apiKey: 'unused',
  webhookSecret: 'unused-webhook-secret-0123456789',
  reauthWorkflowId: 'reauth',
  enrolWorkflowId: 'enrol',
};

export async function startTestServer(
  env: Record<string, string> = {},
  options: {
    dataDir?: string;
    port?: number;
    verification?: ServerOptions['verification'];
    signin?: Record<string, number>;
    /** Other sections of config/default.json to change (e.g. { risk: { ipListsReloadSeconds: 0 } }). */
    config?: Record<string, Record<string, unknown>>;
    now?: () => number;
    /** Embedded verifier: how it forgets an account (what src/run.ts gives); unset, accounts never confirmed are not expired. */
    forgetAtVerifier?: ServerOptions['forgetAtVerifier'];
  } = {},
): Promise<TestServer> {
  const data = options.dataDir ? { dir: options.dataDir, remove: () => {} } : tempDir('idp');
  const clientsFile = path.join(data.dir, 'clients.json');
  // 0600 like everything in DATA_DIR, so the start-up permission check has nothing to report.
  writeFileSync(clientsFile, JSON.stringify(TEST_CLIENTS), { mode: 0o600 });
  const port = options.port ?? (await freePort());
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: data.dir,
    CLIENTS_FILE: clientsFile,
    // The passkey offer page sits between an approved selfie and the application: off unless a test asks for it.
    CONFIG_FILE: changedConfig(data.dir, { passkeys: { offerAfterFaceSignin: false }, ...options.config, ...(options.signin ? { signin: options.signin } : {}) }),
    LOG_LEVEL: 'info',
    // A free port per server: test files run in parallel and would collide on 9464.
    METRICS_PORT: '0',
    // On Redis, servers refuse to generate keys without it; a test opts out with KEYS_ENCRYPTION_KEY: ''.
    ...(env.REDIS_URL ? { KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY } : {}),
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const running = await startServer(config, createLogger(config.logLevel, sink), {
    verification: config.verification.mode === 'embedded' ? (options.verification ?? UNREACHABLE_VERIFIER) : undefined,
    now: options.now,
    forgetAtVerifier: options.forgetAtVerifier,
  });
  return {
    ...running,
    config,
    logs,
    dataDir: data.dir,
    verificationAttempt: (sessionId) => new Attempts(running.store).get(sessionId),
    stop: async () => {
      await running.close();
      data.remove();
    },
  };
}

/**
 * fetch with a cookie jar and manual redirects: a browser without a browser. Cookies keep their
 * Path, as a browser does (oidc-provider scopes interaction cookies to /interaction/<uid>).
 */
export class Browser {
  readonly jar = new Map<string, { value: string; path: string }>();
  /** Names of the cookies, whatever their path (for assertions). */
  readonly cookies = {
    has: (name: string) => [...this.jar.keys()].some((k) => k.split('\0')[0] === name),
    /** The value of the first cookie of that name, whatever its path. */
    get: (name: string) => [...this.jar].find(([k]) => k.split('\0')[0] === name)?.[1].value,
  };

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const sent = [...this.jar]
      .filter(([, c]) => target.pathname === c.path || target.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map(([key, c]) => `${key.split('\0')[0]}=${c.value}`)
      .join('; ');
    if (sent) headers.set('cookie', sent);
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path = attrs.map((a) => a.trim()).find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const key = `${name}\0${path}`;
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar.delete(key);
      else this.jar.set(key, { value, path });
    }
    return res;
  }

  /** Follows redirects on the same origin until a page answers or a redirect leaves `origin`. */
  async follow(url: string | URL, origin: string, init: RequestInit = {}): Promise<{ res: Response; url: string }> {
    let current = String(url);
    let res = await this.fetch(current, init);
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i++) {
      const next = new URL(res.headers.get('location')!, current).toString();
      if (!next.startsWith(origin)) return { res, url: next };
      current = next;
      res = await this.fetch(current);
    }
    return { res, url: current };
  }
}

/**
 * On the login page (a login_hint only fills the email in): one press on "Continue with a
 * selfie", i.e. the form's CSRF-checked POST. Returns the answer: 303 to the capture page, or a page.
 */
export async function continueWithSelfie(browser: Browser, issuer: string, loginPage: { res: Response; url: string }, email?: string): Promise<Response> {
  const html = await loginPage.res.text();
  const uid = /action="\/interaction\/([^/"]+)\/login"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!uid || !csrf) throw new Error(`not a login page: ${loginPage.url} (${loginPage.res.status})`);
  const filled = /id="email" name="email"[^>]* value="([^"]*)"/.exec(html)?.[1] ?? '';
  return browser.fetch(`${issuer}/interaction/${uid}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email: email ?? filled }).toString(),
  });
}

/**
 * An enrolled account whose reference portrait the IdP keeps, as sign-in against a verification
 * service over the network needs (the Didit double): the account id. The portrait's bytes are a
 * marker, not an image: the double compares nothing.
 */
export async function enrolRemoteAccount(server: TestServer, email: string, name: string): Promise<string> {
  if (server.config.verification.mode !== 'remote') throw new Error('expected remote mode');
  const accounts = new Accounts(server.store);
  const id = (await accounts.create({ email, name })).account.id;
  await accounts.markEnrolled(id);
  await new PortraitVault(server.store, server.config.verification.portraitKey!).save(id, Buffer.from('fake-jpeg-bytes'));
  return id;
}
