import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../src/config.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
/** KEYS_ENCRYPTION_KEY for servers on Redis (required there when keys are generated); tests only. */
export const TEST_KEYS_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
export const SHARED_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'shared');

/** A key prefix no other test run uses, so suites can share one real Redis. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${randomUUID().slice(0, 8)}:`;
}

export function tempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `selfie-idp-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The message of the ConfigError `load` throws; fails the test when it throws nothing or another error. */
export function configError(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
