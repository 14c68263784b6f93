// x-api-key, as the real service checks it: no key → 403, a key we do not accept → 401. Keys are
// compared as SHA-256 hashes in constant time; the request's key never reaches a log or the store
// (the rate limiter keys on a short id derived from the hash).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { ApiError } from './errors.ts';

export function requireApiKey(acceptedHashes: Buffer[]) {
  return async (ctx: Context, next: Next) => {
    const key = ctx.get('x-api-key');
    if (!key) throw new ApiError(403, 'You do not have permission to perform this action.');
    const hash = createHash('sha256').update(key, 'utf8').digest();
    // Every configured key is compared, so the time taken does not say which one matched.
    let ok = false;
    for (const accepted of acceptedHashes) ok = timingSafeEqual(hash, accepted) || ok;
    if (!ok) throw new ApiError(401, 'Incorrect authentication credentials.');
    ctx.state.apiKeyId = hash.subarray(0, 8).toString('hex');
    await next();
  };
}
