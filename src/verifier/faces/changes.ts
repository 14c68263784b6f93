// The change log that keeps every instance's in-memory face index (search-index.ts) in step with
// the store, written by whoever changes a searchable face: the capture pipeline, an operator's
// approval, the blocklist API, and the CLI's enrol/delete in another process.
//
// Each searchable face has a ref: a hash of what it is (kind + id), so the log and the index set
// never spell out an account id. K.faceRef(ref) says what the ref is while the face exists;
// erasing the face deletes it, and what is left in the log is a hash of nothing.
//
// A change is: the record itself written (or deleted) first, then the ref mapping and the set,
// then the version bumped and the log entry written. An instance that sees version n replays
// entries up to n, each by re-reading the current state of its ref (so order and repeats do not
// matter). A log entry that stays missing (a writer died between the bump and the entry, or the
// entry expired while an instance was cut off) makes that instance rebuild from the set.
import { createHash } from 'node:crypto';
import type { Store } from '../../store/index.ts';
import { K } from '../keys.ts';

export type FaceKind = 'enrolled' | 'blocked';
export type FaceRefRecord = { kind: FaceKind; id: string };

/** How long a log entry is kept: an instance further behind than this rebuilds instead. */
export const CHANGE_TTL_SECONDS = 24 * 3600;

export function faceRef(kind: FaceKind, id: string): string {
  return createHash('sha256').update(`${kind}:${id}`, 'utf8').digest('base64url').slice(0, 24);
}

async function logChange(store: Store, ref: string): Promise<void> {
  const n = await store.incr(K.faceVersion());
  await store.set(K.faceChange(n), ref, { ttl: CHANGE_TTL_SECONDS });
}

/** The face of `kind`/`id` was written or replaced: every instance (re)loads it. */
export async function faceStored(store: Store, kind: FaceKind, id: string): Promise<void> {
  const ref = faceRef(kind, id);
  await store.set(K.faceRef(ref), { kind, id });
  await store.indexAdd(K.faces(), ref);
  await logChange(store, ref);
}

/** The face of `kind`/`id` is gone: every instance drops it. */
export async function faceRemoved(store: Store, kind: FaceKind, id: string): Promise<void> {
  const ref = faceRef(kind, id);
  await store.delete(K.faceRef(ref));
  await store.indexRemove(K.faces(), ref);
  await logChange(store, ref);
}

/**
 * A face the index may not know yet (enrolled before the index existed): added once, by whoever
 * meets it first (an approved sign-in), without a log entry when it is known already.
 */
export async function ensureFaceKnown(store: Store, kind: FaceKind, id: string): Promise<void> {
  const ref = faceRef(kind, id);
  if (!(await store.setIfAbsent(K.faceRef(ref), { kind, id }))) return;
  await store.indexAdd(K.faces(), ref);
  await logChange(store, ref);
}
