// Generated signing and cookie keys are kept in the store (so every instance signs alike), sealed
// with AES-256-GCM under KEYS_ENCRYPTION_KEY. That key lives apart from the store: in the
// environment or a secret file, or, for a zero-configuration single node, in its own 0600 file in
// DATA_DIR (generated on first need, announced loudly). A copy of the database or a Redis dump
// alone then holds no usable private key.
//
// It is not the verifier's template key nor PORTRAIT_KEY: each secret protects one thing.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import type { Config } from '../config.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../store/data-dir.ts';
import type { Json } from '../store/index.ts';
import type { Logger } from '../logger.ts';

export const KEY_FILE_NAME = 'keys-encryption.key';

/** What a sealed record looks like in the store. key_id names the key, so a wrong one is reported as such. */
export type SealedRecord = { sealed: 'A256GCM'; key_id: string; iv: string; tag: string; data: string };

export function isSealed(value: unknown): value is SealedRecord {
  return typeof value === 'object' && value !== null && (value as { sealed?: unknown }).sealed === 'A256GCM';
}

export class KeyCipher {
  /** A short hash of the key: safe to log and store, tells two keys apart. */
  readonly keyId: string;
  /** Where the key came from (a variable or a file name, never the key). */
  readonly source: string;
  readonly #key: Buffer;

  constructor(key: Buffer, source: string) {
    if (key.length !== 32) throw new ConfigError([`${source}: must be 32 bytes (got ${key.length})`]);
    this.#key = key;
    this.source = source;
    this.keyId = createHash('sha256').update('selfie-idp keys-encryption-key-id').update(key).digest('hex').slice(0, 16);
  }

  /** The store key name is the associated data: a sealed record cannot be moved to another name. */
  seal(name: string, value: Json): SealedRecord {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`selfie-idp ${name}`));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return { sealed: 'A256GCM', key_id: this.keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  open<T>(name: string, record: SealedRecord): T {
    if (record.key_id !== this.keyId) {
      throw new ConfigError([`KEYS_ENCRYPTION_KEY: the stored ${name} were encrypted under another key (key id ${record.key_id}; ${this.source} has key id ${this.keyId}). Start with the key they were written with`]);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(record.iv, 'base64'));
      decipher.setAAD(Buffer.from(`selfie-idp ${name}`));
      decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(record.data, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as T;
    } catch {
      throw new ConfigError([`KEYS_ENCRYPTION_KEY: the stored ${name} do not decrypt under ${this.source} (key id ${this.keyId}): the record is damaged or was altered`]);
    }
  }
}

/** Where the cipher came from, for the start-up log (file names and key ids only, never the key). */
export type CipherNote = { action: 'configured' | 'generated' | 'loaded'; source: string; file?: string };

function readKeyFile(file: string): Buffer {
  const text = readFileSync(file, 'utf8').trim();
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new ConfigError([`DATA_DIR: ${file} does not hold a 32-byte base64 key; restore it from your backup (the stored keys cannot be read without it)`]);
  return key;
}

function writeKeyFile(file: string, key: Buffer): boolean {
  ensurePrivateDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: PRIVATE_FILE_MODE });
  // link() fails if the file exists: of two processes starting together on a fresh DATA_DIR,
  // the first one's key wins and both read it. The file appears whole or not at all.
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * The cipher for keys kept in the store. Configured: KEYS_ENCRYPTION_KEY(_FILE). Otherwise, for the
 * embedded store, DATA_DIR/keys-encryption.key (generated when missing). With Redis there is no
 * safe default (every instance needs the same key): a ConfigError names the variable.
 */
export function openKeyCipher(config: Pick<Config, 'keysEncryptionKey' | 'redis' | 'dataDir'>): { cipher: KeyCipher; note: CipherNote } {
  if (config.keysEncryptionKey) {
    const { key, source } = config.keysEncryptionKey;
    return { cipher: new KeyCipher(key, source), note: { action: 'configured', source } };
  }
  if (config.redis) {
    throw new ConfigError([
      'KEYS_ENCRYPTION_KEY: required with REDIS_URL (or REDIS_SENTINELS, REDIS_CLUSTER_NODES) while signing or cookie keys are generated and kept in the store (JWKS_FILE or COOKIE_KEYS unset): every instance must use the same key. Create one with `openssl rand -base64 32` and give it to every instance (KEYS_ENCRYPTION_KEY or KEYS_ENCRYPTION_KEY_FILE)',
    ]);
  }
  const file = path.join(config.dataDir, KEY_FILE_NAME);
  const source = `DATA_DIR file ${file}`;
  if (existsSync(file)) return { cipher: new KeyCipher(readKeyFile(file), source), note: { action: 'loaded', source, file } };
  const created = writeKeyFile(file, randomBytes(32));
  const cipher = new KeyCipher(readKeyFile(file), source);
  return { cipher, note: { action: created ? 'generated' : 'loaded', source, file } };
}

/** Says where the key that seals the stored keys came from; loudly when it is a file in DATA_DIR. */
export function announceKeyCipher(cipher: KeyCipher, note: CipherNote, log: Logger): void {
  if (note.action === 'configured') {
    log.info({ source: note.source, keyId: cipher.keyId }, 'keys kept in the store are encrypted under the configured key');
    return;
  }
  const what = note.action === 'generated' ? 'GENERATED a new' : 'using the generated';
  log.warn(
    { variable: 'KEYS_ENCRYPTION_KEY', file: note.file, keyId: cipher.keyId },
    `KEYS_ENCRYPTION_KEY is unset: ${what} key in ${note.file} (mode 0600, apart from the database) to encrypt the signing and cookie keys kept in the store; back it up with DATA_DIR, and in production give it as KEYS_ENCRYPTION_KEY or KEYS_ENCRYPTION_KEY_FILE from your secret store`,
  );
}
