// The console's own session: short (admin.idleMinutes without a request ends it, 8 hours at most),
// in the store so every instance sees it, named by a random id in a signed, httpOnly,
// SameSite=Strict cookie scoped to /admin. Every change the console makes is a POST carrying a
// CSRF token bound to this session (the interaction forms' HMAC, csrf.ts).
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Store } from '../../store/index.ts';
import { csrfToken, csrfValid } from '../interaction/csrf.ts';

export const CONSOLE_COOKIE = 'selfie_admin';
const MAX_AGE_MS = 8 * 3600 * 1000;

export type ConsoleSession = { id: string; accountId: string; acr: string; createdAt: number };

const sessionKey = (id: string) => `admin-session:${id}`;
const ofAccountKey = (accountId: string) => `admin-sessions-of:${accountId}`;

export class ConsoleSessions {
  readonly #store: Store;
  readonly #idleSeconds: number;
  readonly #csrfSecret: string;
  constructor(store: Store, idleMinutes: number, csrfSecret: string) {
    this.#store = store;
    this.#idleSeconds = idleMinutes * 60;
    this.#csrfSecret = csrfSecret;
  }

  async open(ctx: Context, accountId: string, acr: string): Promise<ConsoleSession> {
    const session: ConsoleSession = { id: randomBytes(24).toString('base64url'), accountId, acr, createdAt: Date.now() };
    await this.#store.set(sessionKey(session.id), session, { ttl: this.#idleSeconds });
    await this.#store.indexAdd(ofAccountKey(accountId), session.id, { ttl: MAX_AGE_MS / 1000 });
    ctx.cookies.set(CONSOLE_COOKIE, session.id, { signed: true, httpOnly: true, sameSite: 'strict', path: '/admin', overwrite: true });
    return session;
  }

  /** The live session of this browser, its idle timer restarted; undefined when none or expired. */
  async current(ctx: Context): Promise<ConsoleSession | undefined> {
    const id = ctx.cookies.get(CONSOLE_COOKIE, { signed: true });
    if (!id) return undefined;
    const session = await this.#store.get<ConsoleSession>(sessionKey(id));
    if (!session) return undefined;
    if (Date.now() - session.createdAt > MAX_AGE_MS) {
      await this.#store.delete(sessionKey(id));
      return undefined;
    }
    await this.#store.set(sessionKey(id), session, { ttl: this.#idleSeconds });
    return session;
  }

  async close(ctx: Context, session: ConsoleSession | undefined): Promise<void> {
    if (session) {
      await this.#store.delete(sessionKey(session.id));
      await this.#store.indexRemove(ofAccountKey(session.accountId), session.id);
    }
    ctx.cookies.set(CONSOLE_COOKIE, null, { path: '/admin' });
  }

  csrf(session: ConsoleSession): string {
    return csrfToken(this.#csrfSecret, `admin:${session.id}`);
  }

  csrfValid(session: ConsoleSession, presented: string | null): boolean {
    return csrfValid(this.#csrfSecret, `admin:${session.id}`, presented);
  }
}

/** Erasure and revocation: every console session of the account ends. */
export async function forgetConsoleSessions(store: Store, accountId: string): Promise<void> {
  const ids = await store.indexMembers(ofAccountKey(accountId));
  await store.delete(...ids.map(sessionKey), ofAccountKey(accountId));
}
