// Which browser loaded a session's capture page. The page's address is the session's only
// credential, but what the page hands back when the session is decided (the callback URL with the
// session id) is for the browser that did the capture, not for anyone who learns the address: the
// first capture load sets a random cookie scoped to the page's path, and the status poll and the
// "continue" link on the finished page answer only a browser that holds one for this session.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Store } from '../../store/index.ts';
import { K } from '../keys.ts';

const COOKIE = 'capture_viewer';

export async function rememberViewer(ctx: Context, store: Store, token: string, sessionId: string, ttlSeconds: number): Promise<void> {
  if (await isViewer(ctx, store, sessionId)) return;
  const viewer = randomBytes(18).toString('base64url');
  await store.set(K.pageViewer(viewer), sessionId, { ttl: ttlSeconds });
  await store.indexAdd(K.sessionViewers(sessionId), viewer, { ttl: ttlSeconds });
  ctx.cookies.set(COOKIE, viewer, {
    path: `/session/${encodeURIComponent(token)}`,
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    maxAge: ttlSeconds * 1000,
    overwrite: true,
  });
}

export async function isViewer(ctx: Context, store: Store, sessionId: string): Promise<boolean> {
  const viewer = ctx.cookies.get(COOKIE);
  if (!viewer || !/^[A-Za-z0-9_-]{24}$/.test(viewer)) return false;
  return (await store.get<string>(K.pageViewer(viewer))) === sessionId;
}
