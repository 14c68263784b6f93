// A short mutual-exclusion lock over the Store (setIfAbsent + TTL), for read-modify-write of one
// session: a capture finishing and the abandonment timer firing must not both win. The TTL frees
// the lock if its holder dies; the token makes sure a holder only releases its own lock.
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/index.ts';
import { K } from './keys.ts';

export class LockTimeoutError extends Error {
  constructor(name: string) {
    super(`could not take lock ${name}`);
    this.name = 'LockTimeoutError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function withLock<T>(store: Store, name: string, fn: () => Promise<T>, options: { ttlSeconds?: number; waitMs?: number } = {}): Promise<T> {
  const key = K.lock(name);
  const token = randomUUID();
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  let delay = 5;
  while (!(await store.setIfAbsent(key, token, { ttl: options.ttlSeconds ?? 15 }))) {
    if (Date.now() > deadline) throw new LockTimeoutError(name);
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    // get + delete is not atomic; it can only misfire for a holder that overran the TTL, and then
    // the lock was no longer ours to protect anything.
    if ((await store.get<string>(key)) === token) await store.delete(key);
  }
}
