// Start-up as an operator meets it: config errors, a dead Redis, keys that survive a restart,
// rotation order, and `npm start`'s command line.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, loadConfig } from '../../src/config.ts';
import { KeyVault, loadSigningKeys, rotateSigningKeys, listSigningKeys } from '../../src/idp/keys.ts';
import { KeyCipher } from '../../src/idp/key-cipher.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { TEST_REDIS_URL, configError, tempDir, uniquePrefix } from '../helpers/env.ts';
import { freePort, startTestServer } from '../helpers/server.ts';

const cli = path.join(REPO_ROOT, 'src', 'cli.ts');

function run(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('configuration', () => {
  it('names the variable and what is wrong', () => {
    const bad = (env: Record<string, string>) => configError(() => loadConfig(env));
    expect(bad({ PORT: 'eighty' })).toMatch(/PORT: .*number/i);
    expect(bad({ PORT: '70000' })).toMatch(/PORT: /);
    expect(bad({ ISSUER: 'not a url' })).toMatch(/ISSUER: /);
    expect(bad({ ISSUER: 'https://idp.example.com/' })).toMatch(/ISSUER: must not end with a slash/);
    expect(bad({ REDIS_URL: 'localhost:6379' })).toMatch(/REDIS_URL: must start with redis:\/\//);
    expect(bad({ LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL: /);
    expect(bad({ COOKIE_KEYS: 'short' })).toMatch(/COOKIE_KEYS: .*32 characters/);
    expect(bad({ TRUST_PROXY: 'maybe' })).toMatch(/TRUST_PROXY: /);
    expect(bad({ METRICS_PORT: 'ninety' })).toMatch(/METRICS_PORT: /);
    expect(bad({ METRICS_PORT: '65536' })).toMatch(/METRICS_PORT: /);
    expect(bad({ CONFIG_FILE: '/nonexistent/x.json' })).toMatch(/CONFIG_FILE: file .* does not exist/);
  });

  it('defaults: issuer follows the port, embedded store, demo clients file', () => {
    const c = loadConfig({});
    expect(c.issuer).toBe('http://localhost:3000');
    expect(c.port).toBe(3000);
    expect(c.redis).toBeUndefined();
    expect(c.clientsFile).toBe(path.join(REPO_ROOT, 'config', 'clients.json'));
    expect(loadConfig({ PORT: '4000' }).issuer).toBe('http://localhost:4000');
    expect(loadConfig({ ISSUER: 'https://id.example.com' }).issuer).toBe('https://id.example.com');
  });

  it('a client that oidc-provider rejects stops start-up with its id', async () => {
    const dir = tempDir('bad-clients');
    const file = path.join(dir.dir, 'clients.json');
    writeFileSync(file, JSON.stringify([{ client_id: 'broken', redirect_uris: ['https://rp.example.com/cb'], grant_types: ['implicit'] }]));
    await expect(startTestServer({ CLIENTS_FILE: file })).rejects.toThrow(/CLIENTS_FILE: client "broken"/);
    writeFileSync(file, JSON.stringify([{ client_id: 'no-redirects' }]));
    await expect(startTestServer({ CLIENTS_FILE: file })).rejects.toThrow(/CLIENTS_FILE .*redirect_uris/);
    dir.remove();
  });
});

describe('metrics listener', () => {
  it('defaults to 127.0.0.1:9464', () => {
    expect(loadConfig({}).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
  });

  it('a taken METRICS_PORT stops start-up naming the variable; stopping a server frees its metrics port', async () => {
    const first = await startTestServer();
    const port = new URL(first.metricsUrl).port;
    await expect(startTestServer({ METRICS_PORT: port })).rejects.toThrow(/METRICS_PORT: cannot listen on 127\.0\.0\.1:\d+ .*EADDRINUSE/);
    await first.stop();
    await expect(fetch(first.metricsUrl)).rejects.toThrow();
    const second = await startTestServer({ METRICS_PORT: port });
    expect((await fetch(second.metricsUrl)).status).toBe(200);
    await second.stop();
  });
});

describe('process start-up', () => {
  it('exits non-zero within 5 s when REDIS_URL points at nothing', async () => {
    const dir = tempDir('dead-redis');
    const result = await run(['serve'], { REDIS_URL: 'redis://127.0.0.1:1', PORT: String(await freePort()), VERIFIER_PORT: String(await freePort()), METRICS_PORT: '0', DATA_DIR: dir.dir });
    dir.remove();
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.ms).toBeLessThan(5000);
    expect(result.stderr).toMatch(/REDIS_URL: cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it('exits 1 with the variable named on bad config, and 2 on bad usage', async () => {
    const bad = await run(['serve'], { PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/PORT: /);
    const usage = await run(['frobnicate'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('serves discovery from a fresh DATA_DIR with no Redis configured', async () => {
    const dir = tempDir('fresh');
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), VERIFIER_PORT: String(await freePort()), METRICS_PORT: '0', DEMO_RP_PORT: '0', DATA_DIR: dir.dir, REDIS_URL: '' };
    const child = spawn(process.execPath, [cli, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout.on('data', (d) => (logs += d));
    try {
      let discovery: { issuer?: string } | undefined;
      for (let i = 0; i < 100 && !discovery; i++) {
        await new Promise((r) => setTimeout(r, 100));
        discovery = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`).then((r) => r.json(), () => undefined);
      }
      expect(discovery?.issuer).toBe(`http://localhost:${port}`);
      expect(logs).toContain('single node');
      expect(logs).toContain('GENERATED NEW TOKEN SIGNING KEYS');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      dir.remove();
    }
  });
});

describe('keys', () => {
  const dirs: { remove: () => void }[] = [];
  afterAll(() => dirs.forEach((d) => d.remove()));

  it.each([
    ['embedded', {}],
    ['redis', { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('keys') }],
  ])('signing keys survive a restart (%s store)', async (_name, env: Record<string, string>) => {
    const dir = tempDir('keys');
    dirs.push(dir);
    const first = await startTestServer(env, { dataDir: dir.dir });
    const jwks1 = await (await fetch(`${first.config.issuer}/jwks`)).json();
    await first.close();
    const second = await startTestServer(env, { dataDir: dir.dir });
    const jwks2 = await (await fetch(`${second.config.issuer}/jwks`)).json();
    await second.close();
    expect(jwks2.keys.map((k: { kid: string }) => k.kid)).toEqual(jwks1.keys.map((k: { kid: string }) => k.kid));
    expect(second.logs.join('')).not.toContain('GENERATED NEW TOKEN SIGNING KEYS');
  });

  it('rotation stages, then promotes, then retires, then removes — in that order', async () => {
    const dir = tempDir('rotate');
    dirs.push(dir);
    const store = new SqliteStore(dir.dir);
    const vault = new KeyVault(store, new KeyCipher(randomBytes(32), 'test key'));
    const initial = await loadSigningKeys(vault, undefined);
    const firstRsa = initial.jwks.keys.find((k) => k.alg === 'RS256')!.kid!;
    const t0 = Date.now();

    const r1 = await rotateSigningKeys(vault, 3600, t0);
    expect(r1.promoted).toEqual([]);
    expect(r1.staged).toHaveLength(2);
    let jwks = (await loadSigningKeys(vault, undefined)).jwks.keys;
    // Still signing with the first key (first of its alg); the staged one is published after it.
    expect(jwks.find((k) => k.alg === 'RS256')!.kid).toBe(firstRsa);
    expect(jwks.map((k) => k.kid)).toContain(r1.staged[0]);

    const r2 = await rotateSigningKeys(vault, 3600, t0 + 1000);
    expect(r2.promoted).toEqual(r1.staged);
    expect(r2.retired).toContain(firstRsa);
    jwks = (await loadSigningKeys(vault, undefined)).jwks.keys;
    expect(jwks.find((k) => k.alg === 'RS256')!.kid).toBe(r1.staged[0]);
    expect(jwks.map((k) => k.kid)).toContain(firstRsa);

    const r3 = await rotateSigningKeys(vault, 3600, t0 + 3600_000 + 2000);
    expect(r3.removed).toContain(firstRsa);
    const listed = await listSigningKeys(vault);
    expect(listed.map((k) => k.kid)).not.toContain(firstRsa);
    expect(JSON.stringify(listed)).not.toMatch(/"d":/);
    await store.close();
  });
});
