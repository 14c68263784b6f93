// Keys and state at rest (issue 17, item 6): DATA_DIR 0700 and its files 0600, a loud warning
// (and tightened files) when they are wider, generated signing and cookie keys sealed with
// AES-256-GCM under KEYS_ENCRYPTION_KEY kept apart from the database, plaintext records of older
// versions migrated, and clear start-up errors for a wrong or missing key.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { REPO_ROOT, loadConfig } from '../../src/config.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { generateSigningKey } from '../../src/idp/keys.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { loadVerifierConfig } from '../../src/verifier/config.ts';
import { TEST_REDIS_URL, configError, tempDir, uniquePrefix } from '../helpers/env.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, freePort, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
const dirs: { remove: () => void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));
function dir(label: string): string {
  const d = tempDir(label);
  dirs.push(d);
  return d.dir;
}

const mode = (file: string) => statSync(file).mode & 0o777;
type LogLine = { level: number; msg: string; [k: string]: unknown };
const warnings = (server: TestServer): LogLine[] => server.logs.map((l) => JSON.parse(l) as LogLine).filter((l) => l.level === 40);

/** The raw value of a store row, as anyone who can read the database file would see it. */
function rawRow(dataDir: string, key: string): string {
  const db = new DatabaseSync(path.join(dataDir, 'selfie-idp.sqlite'), { readOnly: true });
  try {
    return (db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string }).value;
  } finally {
    db.close();
  }
}

/** A signed-in code flow (the login result stored on the interaction, as in provider.test.ts); returns the ID token. */
async function idToken(server: TestServer, accountId: string): Promise<string> {
  const issuer = server.config.issuer;
  const config = await discover(issuer, TEST_CLIENTS[0]!);
  const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { nonce: 'n-at-rest' });
  const browser = new Browser();
  const res = await browser.fetch(url);
  const uid = res.headers.get('location')!.split('/').pop()!;
  const interaction = (await server.provider.Interaction.find(uid))!;
  interaction.result = { login: { accountId, amr: ['face'], acr: server.config.acr.face, remember: true, ts: Math.floor(Date.now() / 1000) } };
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  const back = await browser.follow(interaction.returnTo, issuer);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'n-at-rest' });
  return tokens.id_token!;
}

describe('DATA_DIR permissions', () => {
  it('a fresh DATA_DIR is created 0700 and every file in it 0600 (database, -wal, -shm, key file, verifier secrets)', async () => {
    const dataDir = path.join(dir('fresh'), 'nested', 'data');
    const server = await startTestServer({ DATA_DIR: dataDir });
    try {
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(path.dirname(dataDir))).toBe(0o700);
      const files = readdirSync(dataDir).sort();
      expect(files).toEqual(expect.arrayContaining(['keys-encryption.key', 'selfie-idp.sqlite', 'selfie-idp.sqlite-shm', 'selfie-idp.sqlite-wal']));
      for (const f of files) expect([f, mode(path.join(dataDir, f))]).toEqual([f, 0o600]);
      expect(warnings(server).filter((w) => /other local users/.test(w.msg))).toEqual([]);
    } finally {
      await server.stop();
    }
    const verifierDir = path.join(dir('fresh-verifier'), 'data');
    loadVerifierConfig({ DATA_DIR: verifierDir });
    expect(mode(verifierDir)).toBe(0o700);
    expect(mode(path.join(verifierDir, 'verifier-secrets.json'))).toBe(0o600);
  });

  it('warns loudly on a 0755 DATA_DIR, tightens the files we wrote, and reports (only) files that are not ours', async () => {
    const dataDir = dir('wide');
    // What an older version left behind: the directory 0755, the database 0644.
    const old = new SqliteStore(dataDir);
    await old.close();
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'selfie-idp.sqlite'), 0o644);
    writeFileSync(path.join(dataDir, 'notes.txt'), 'the operator\'s own file', { mode: 0o644 });
    chmodSync(path.join(dataDir, 'notes.txt'), 0o644);

    const server = await startTestServer({}, { dataDir });
    try {
      const warned = warnings(server);
      expect(warned.find((w) => w.msg.includes(`DATA_DIR ${dataDir} is open to other local users (mode 0755)`))).toBeDefined();
      expect(warned.find((w) => w.file === path.join(dataDir, 'selfie-idp.sqlite') && w.was === '0644' && w.now === '0600')).toBeDefined();
      expect(warned.find((w) => w.file === path.join(dataDir, 'notes.txt') && /not ours/.test(w.msg))).toBeDefined();
      expect(mode(path.join(dataDir, 'selfie-idp.sqlite'))).toBe(0o600);
      expect(mode(path.join(dataDir, 'selfie-idp.sqlite-wal'))).toBe(0o600);
      expect(mode(path.join(dataDir, 'notes.txt'))).toBe(0o644);
      // The directory is the operator's to change (it may be a mounted volume): reported, not changed.
      expect(mode(dataDir)).toBe(0o755);
    } finally {
      await server.stop();
    }
  });
});

describe('generated keys encrypted at rest', () => {
  it('the stored key records hold no plaintext key material; tokens signed after a restart verify against /jwks', async () => {
    const dataDir = dir('sealed');
    const first = await startTestServer({}, { dataDir });
    const kids = (await (await fetch(`${first.config.issuer}/jwks`)).json()).keys.map((k: { kid: string }) => k.kid);
    expect(first.logs.join('')).toContain('GENERATED a new key');
    await first.stop();

    const signing = rawRow(dataDir, 'keys:signing');
    const cookies = rawRow(dataDir, 'keys:cookies');
    for (const raw of [signing, cookies]) {
      expect(JSON.parse(raw)).toMatchObject({ sealed: 'A256GCM', key_id: expect.stringMatching(/^[0-9a-f]{16}$/), iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
      expect(raw).not.toMatch(/"(d|p|q|dp|dq|qi|kty|value)"/);
    }
    for (const kid of kids) expect(signing).not.toContain(kid);
    // The key is in its own file, not in the database.
    const keyFile = path.join(dataDir, 'keys-encryption.key');
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    const dbBytes = readFileSync(path.join(dataDir, 'selfie-idp.sqlite')).toString('latin1');
    expect(dbBytes).not.toContain(key);

    const second = await startTestServer({}, { dataDir });
    try {
      expect(second.logs.join('')).not.toContain('GENERATED');
      expect(second.logs.join('')).toContain('using the generated key');
      const jwks = await (await fetch(`${second.config.issuer}/jwks`)).json();
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(kids);
      expect(JSON.stringify(jwks)).not.toMatch(/"d":/);
      const account = (await new Accounts(second.store).create({ email: 'ada@example.com', name: 'Ada' })).account;
      const token = await idToken(second, account.id);
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${second.config.issuer}/jwks`)), { issuer: second.config.issuer });
      expect(payload.sub).toBe(account.id);
      expect(kids).toContain(protectedHeader.kid);
      expect(second.logs.join('')).not.toContain(key);
    } finally {
      await second.stop();
    }
  });

  it('plaintext keys from an older version keep working and are encrypted in place', async () => {
    const dataDir = dir('migrate');
    const old = new SqliteStore(dataDir);
    const rsa = await generateSigningKey('RS256', 'current');
    const es = await generateSigningKey('ES256', 'current');
    const cookieKey = randomBytes(32).toString('base64url');
    await old.set('keys:signing', { keys: [rsa, es] } as never);
    await old.set('keys:cookies', { keys: [{ value: cookieKey, created: Date.now() }] });
    await old.close();

    const server = await startTestServer({}, { dataDir });
    try {
      expect(server.logs.join('')).toContain('unencrypted (written by an older version): encrypted them in place');
      const jwks = await (await fetch(`${server.config.issuer}/jwks`)).json();
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([rsa.kid, es.kid]);
      const account = (await new Accounts(server.store).create({ email: 'ada@example.com', name: 'Ada' })).account;
      const { protectedHeader } = await jwtVerify(await idToken(server, account.id), createRemoteJWKSet(new URL(`${server.config.issuer}/jwks`)));
      expect(protectedHeader.kid).toBe(rsa.kid);
    } finally {
      await server.stop();
    }
    const signing = rawRow(dataDir, 'keys:signing');
    expect(JSON.parse(signing).sealed).toBe('A256GCM');
    expect(signing).not.toContain(rsa.jwk.d!);
    expect(rawRow(dataDir, 'keys:cookies')).not.toContain(cookieKey);
  });
});

describe('KEYS_ENCRYPTION_KEY', () => {
  it('is validated once: 32 bytes of base64, one of the variable or the file', () => {
    const bad = (env: Record<string, string>) => configError(() => loadConfig(env));
    expect(bad({ KEYS_ENCRYPTION_KEY: 'short' })).toMatch(/KEYS_ENCRYPTION_KEY: must be 32 random bytes in base64/);
    expect(bad({ KEYS_ENCRYPTION_KEY_FILE: '/nonexistent/key' })).toMatch(/KEYS_ENCRYPTION_KEY_FILE: file .* does not exist/);
    const file = path.join(dir('key-file'), 'key');
    writeFileSync(file, 'not a key\n');
    expect(bad({ KEYS_ENCRYPTION_KEY_FILE: file })).toMatch(/KEYS_ENCRYPTION_KEY_FILE: .* must be 32 random bytes/);
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('base64')}\n`);
    expect(loadConfig({ KEYS_ENCRYPTION_KEY_FILE: file }).keysEncryptionKey?.key.equals(key)).toBe(true);
    expect(bad({ KEYS_ENCRYPTION_KEY_FILE: file, KEYS_ENCRYPTION_KEY: key.toString('base64') })).toMatch(/set one, not both/);
  });

  it('a wrong key stops `selfie-idp serve` with a clear message naming the variable, exit 1, no stack', async () => {
    const dataDir = dir('wrong-key');
    const first = await startTestServer({}, { dataDir });
    await first.stop();
    const env = { ...process.env, PORT: String(await freePort()), VERIFIER_PORT: String(await freePort()), METRICS_PORT: '0', DEMO_RP_PORT: '0', DATA_DIR: dataDir, REDIS_URL: '', KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli.ts'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/KEYS_ENCRYPTION_KEY: the stored keys:signing were encrypted under another key \(key id [0-9a-f]{16}; KEYS_ENCRYPTION_KEY has key id [0-9a-f]{16}\)/);
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 30_000);

  it('on Redis: unset while keys would be generated → refused naming the variable; not needed when JWKS_FILE and COOKIE_KEYS are given', async () => {
    const redis = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('keys-at-rest') };
    await expect(startTestServer({ ...redis, KEYS_ENCRYPTION_KEY: '' })).rejects.toThrow(/KEYS_ENCRYPTION_KEY: required with REDIS_URL/);
    const jwksFile = path.join(dir('jwks'), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [(await generateSigningKey('RS256', 'current')).jwk] }), { mode: 0o600 });
    const server = await startTestServer({ ...redis, KEYS_ENCRYPTION_KEY: '', JWKS_FILE: jwksFile, COOKIE_KEYS: randomBytes(32).toString('base64url') });
    try {
      expect((await fetch(`${server.config.issuer}/jwks`)).status).toBe(200);
    } finally {
      await server.stop();
    }
    // With the key (the test helper gives every Redis server one), generated keys are sealed in Redis too.
    const sealed = await startTestServer(redis);
    try {
      const raw = await sealed.store.get<Record<string, unknown>>('keys:signing');
      expect(raw).toMatchObject({ sealed: 'A256GCM' });
    } finally {
      await sealed.stop();
    }
  });
});

