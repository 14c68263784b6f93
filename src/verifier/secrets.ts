// Secrets the verifier can make up for itself on a single-node, zero-configuration start: a dev
// API key, the webhook signing secret and the template encryption keys. They are generated once,
// kept in DATA_DIR/verifier-secrets.json (mode 0600) so a restart does not orphan enrolled
// templates or break the IdP's webhook receiver, and the start-up log says so loudly. Several
// instances must be given the same values through the environment instead.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import { ensurePrivateDir } from '../store/data-dir.ts';

export const SECRETS_FILE_NAME = 'verifier-secrets.json';

type SecretsFile = { api_key?: string; webhook_secret?: string; template_keys?: string };
export type SecretName = keyof SecretsFile;

/** What came from DATA_DIR rather than the environment; the start-up log repeats it as a warning. */
export type SecretNote = { variable: string; action: 'generated' | 'loaded'; file: string };

const GENERATORS: Record<SecretName, () => string> = {
  api_key: () => `vk_${randomBytes(24).toString('base64url')}`,
  webhook_secret: () => randomBytes(32).toString('base64url'),
  template_keys: () => `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}:${randomBytes(32).toString('base64')}`,
};

const VARIABLE: Record<SecretName, string> = {
  api_key: 'VERIFIER_API_KEYS',
  webhook_secret: 'VERIFIER_WEBHOOK_SECRET',
  template_keys: 'VERIFIER_TEMPLATE_KEYS',
};

function readSecrets(file: string): SecretsFile {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SecretsFile;
  } catch (err) {
    throw new ConfigError([`DATA_DIR: ${file} is not valid JSON (${(err as Error).message}); fix or remove it`]);
  }
}

function writeSecrets(file: string, secrets: SecretsFile): void {
  ensurePrivateDir(path.dirname(file));
  // Write-then-rename so a crash never leaves a half-written file that would lose the keys.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Returns the values for the secrets the environment did not set, creating the missing ones in
 * DATA_DIR. `wanted` lists only those; nothing is written when it is empty.
 */
export function persistedSecrets(dataDir: string, wanted: SecretName[]): { values: SecretsFile; notes: SecretNote[] } {
  const file = path.join(dataDir, SECRETS_FILE_NAME);
  if (wanted.length === 0) return { values: {}, notes: [] };
  const stored = readSecrets(file);
  const notes: SecretNote[] = [];
  let changed = false;
  for (const name of wanted) {
    if (typeof stored[name] === 'string' && stored[name]) {
      notes.push({ variable: VARIABLE[name], action: 'loaded', file });
    } else {
      stored[name] = GENERATORS[name]();
      changed = true;
      notes.push({ variable: VARIABLE[name], action: 'generated', file });
    }
  }
  if (changed) writeSecrets(file, stored);
  const values: SecretsFile = {};
  for (const name of wanted) values[name] = stored[name];
  return { values, notes };
}
