// Retained media: only for workflows with retain_media on (off by default). Kept in the store as
// base64 beside the session and dropped with it (same TTL, and on DELETE). Served to API clients
// at /v3/session/<id>/media/<name> with the same x-api-key as the rest of the API.
import type { Store } from '../store/index.ts';
import { K } from './keys.ts';

export const MEDIA_NAMES = ['capture.jpg', 'portrait.jpg'] as const;
export type MediaName = (typeof MEDIA_NAMES)[number];

export function mediaUrl(publicUrl: string, sessionId: string, name: MediaName): string {
  return `${publicUrl}/v3/session/${sessionId}/media/${name}`;
}

export async function saveMedia(store: Store, sessionId: string, name: MediaName, bytes: Buffer, ttlSeconds: number): Promise<void> {
  await store.set(K.media(sessionId, name), bytes.toString('base64'), { ttl: ttlSeconds });
}

export async function loadMedia(store: Store, sessionId: string, name: MediaName): Promise<Buffer | undefined> {
  const b64 = await store.get<string>(K.media(sessionId, name));
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64');
}
