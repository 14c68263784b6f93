// CSRF token for interaction forms: an HMAC of the interaction uid under the first cookie key.
// The interaction cookie is SameSite=Lax already; this also stops same-site form posts.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function csrfToken(secret: string, uid: string): string {
  return createHmac('sha256', secret).update(`interaction:${uid}`).digest('base64url');
}

export function csrfValid(secret: string, uid: string, presented: string | null): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfToken(secret, uid));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
