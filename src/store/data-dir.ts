// DATA_DIR holds the embedded database (sessions, capture tokens, accounts, the signing keys
// sealed under their encryption key), that encryption key when it was generated, and the
// verifier's generated secrets. None of it is for other local users: the directory is created
// 0700 and every file in it 0600, and a start-up check warns about anything wider.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.ts';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** The files this project writes in DATA_DIR; a wider mode on one of them is tightened at start. */
export const OWN_FILES = [
  'selfie-idp.sqlite',
  'selfie-idp.sqlite-wal',
  'selfie-idp.sqlite-shm',
  'selfie-idp.sqlite-journal',
  'keys-encryption.key',
  'verifier-secrets.json',
];

/** Creates the directory (and missing parents) 0700; an existing one is left as it is (see checkDataDir). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates an empty file 0600 if it does not exist yet. SQLite gives its -wal and -shm files the
 * mode of the database file, so creating the database this way covers all three.
 */
export function ensurePrivateFile(file: string): void {
  if (existsSync(file)) return;
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * Start-up check: warns loudly when DATA_DIR or a file in it is open to group or others, and
 * tightens the files we wrote (older versions created them 0644). The directory itself and files
 * we do not know are only reported: they may be shared on purpose (a mounted volume).
 */
export function checkDataDir(dir: string, log: Logger): void {
  if (!existsSync(dir)) return;
  const dirMode = statSync(dir).mode;
  if (dirMode & 0o077) {
    log.warn({ dataDir: dir, mode: octal(dirMode) }, `DATA_DIR ${dir} is open to other local users (mode ${octal(dirMode)}): it holds sessions and key material; run \`chmod 700 ${dir}\``);
  }
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      continue; // gone meanwhile (a -wal checkpointed away)
    }
    if (!stat.isFile() || !(stat.mode & 0o077)) continue;
    if (OWN_FILES.includes(name)) {
      chmodSync(file, PRIVATE_FILE_MODE);
      log.warn({ file, was: octal(stat.mode), now: octal(PRIVATE_FILE_MODE) }, `DATA_DIR: ${file} was readable by other local users (mode ${octal(stat.mode)}); tightened it to 0600`);
    } else {
      log.warn({ file, mode: octal(stat.mode) }, `DATA_DIR: ${file} is readable by other local users (mode ${octal(stat.mode)}); it is not ours, so it was left as it is`);
    }
  }
}
