// Webhook signatures (../../../shared/didit/SOURCES.md):
//   X-Signature        = hex HMAC-SHA256(secret, raw body bytes)
//   X-Signature-V2     = hex HMAC-SHA256(secret, canonicalJson(body))
//   X-Signature-Simple = hex HMAC-SHA256(secret, "timestamp:session_id:status:webhook_type")
//   X-Timestamp        = the body's timestamp (not itself signed; the body's copy is)
// V2 exists because proxies and frameworks re-serialise JSON; it survives that where the raw
// signature does not. Simple covers no payload beyond four fields, so it is produced for
// compatibility but never accepted as proof of a body here.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson, canonicalJsonFromRaw, formatNumber, wireJson } from './canonical-json.ts';
import { webhookEnvelopeSchema, type ReceivedWebhook } from './schemas.ts';

export { canonicalJson, canonicalJsonFromRaw, compareCodePoints, formatNumber, wireJson } from './canonical-json.ts';

export const DEFAULT_MAX_SKEW_SECONDS = 300;

export type WebhookSignatureHeaders = {
  'X-Signature': string;
  'X-Signature-V2': string;
  'X-Signature-Simple': string;
  'X-Timestamp': string;
};

/** The fields the simple signature and X-Timestamp are made from; the rest is signed as is. */
export type SignableWebhook = {
  timestamp: number;
  session_id: string;
  status: string;
  webhook_type: string;
  [key: string]: unknown;
};

export type SignedWebhook = { body: string; headers: WebhookSignatureHeaders };

/** Node's IncomingHttpHeaders (lowercase keys), a fetch Headers, or any plain record. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export type VerifyOptions = {
  /** The receiver's clock: a Date, or Unix seconds. Defaults to the current time. */
  now?: Date | number;
  maxSkewSeconds?: number;
};

export type VerifyFailureReason = 'missing_signature' | 'bad_signature' | 'stale_timestamp' | 'malformed';

export type VerifyResult =
  | { ok: true; payload: ReceivedWebhook; verifiedBy: 'X-Signature-V2' | 'X-Signature' }
  | { ok: false; reason: VerifyFailureReason };

function requireSecret(secret: string): void {
  // An empty key would make every signature trivially forgeable by anyone who guesses it.
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('webhook secret must be a non-empty string');
}

export function hmacSha256Hex(secret: string, message: string | Uint8Array): string {
  return createHmac('sha256', secret).update(message).digest('hex');
}

export function simpleSignatureInput(body: Pick<SignableWebhook, 'timestamp' | 'session_id' | 'status' | 'webhook_type'>): string {
  return `${formatNumber(body.timestamp)}:${body.session_id}:${body.status}:${body.webhook_type}`;
}

/** Serialises a webhook body to its wire form and computes the three signatures over it. */
export function signWebhook(body: SignableWebhook, secret: string): SignedWebhook {
  requireSecret(secret);
  const wire = wireJson(body);
  return {
    body: wire,
    headers: {
      'X-Signature': hmacSha256Hex(secret, wire),
      'X-Signature-V2': hmacSha256Hex(secret, canonicalJson(body)),
      'X-Signature-Simple': hmacSha256Hex(secret, simpleSignatureInput(body)),
      'X-Timestamp': formatNumber(body.timestamp),
    },
  };
}

function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    // A repeated signature header is ambiguous; joined, it fails the hex check below.
    return (Array.isArray(value) ? value.join(', ') : value).trim();
  }
  return undefined;
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

// Constant time in the signature's value; the length and hex checks reveal only what the
// attacker already knows about their own header.
function signatureMatches(received: string, expectedHex: string): boolean {
  if (!HEX_SHA256.test(received)) return false;
  const a = Buffer.from(received, 'hex');
  const b = Buffer.from(expectedHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function tryCanonical(text: string): string | undefined {
  try {
    return canonicalJsonFromRaw(text);
  } catch {
    return undefined;
  }
}

function nowSeconds(now: Date | number | undefined): number {
  if (now === undefined) return Date.now() / 1000;
  return now instanceof Date ? now.getTime() / 1000 : now;
}

/**
 * Verifies a webhook delivery and returns its parsed envelope.
 *
 * Order: X-Signature-V2 over the canonicalised raw body, else X-Signature over the raw bytes;
 * then the body's `timestamp` must be within maxSkewSeconds of now (either direction) and equal
 * X-Timestamp when that header is sent; only then is the body parsed into the envelope schema.
 * Pass the body exactly as received (before any JSON middleware).
 *
 * Stateless on purpose: replay protection needs memory, so the receiver must remember each
 * accepted `event_id` and ignore repeats. Keeping them for 2 × maxSkewSeconds stops replays
 * (anything older fails the timestamp check); keeping them longer than the sender's retry span
 * (about 5 minutes, each retry freshly signed) also drops duplicate deliveries.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  secret: string,
  options: VerifyOptions = {},
): VerifyResult {
  requireSecret(secret);
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const v2 = readHeader(headers, 'X-Signature-V2');
  const raw = readHeader(headers, 'X-Signature');
  if (!v2 && !raw) return { ok: false, reason: 'missing_signature' };

  const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const text = decodeUtf8(bytes);

  let verifiedBy: 'X-Signature-V2' | 'X-Signature' | undefined;
  if (v2 && text !== undefined) {
    const canonical = tryCanonical(text);
    if (canonical !== undefined && signatureMatches(v2, hmacSha256Hex(secret, canonical))) verifiedBy = 'X-Signature-V2';
  }
  if (!verifiedBy && raw && signatureMatches(raw, hmacSha256Hex(secret, bytes))) verifiedBy = 'X-Signature';
  if (!verifiedBy) return { ok: false, reason: 'bad_signature' };

  // Signed by the holder of the secret, yet possibly not a webhook we understand.
  if (text === undefined) return { ok: false, reason: 'malformed' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'malformed' };

  const timestamp = (body as { timestamp?: unknown }).timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return { ok: false, reason: 'malformed' };
  const headerTimestamp = readHeader(headers, 'X-Timestamp');
  if (headerTimestamp !== undefined && (!/^\d+$/.test(headerTimestamp) || Number(headerTimestamp) !== timestamp)) {
    return { ok: false, reason: 'malformed' };
  }
  if (Math.abs(nowSeconds(options.now) - timestamp) > maxSkew) return { ok: false, reason: 'stale_timestamp' };

  const parsed = webhookEnvelopeSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  return { ok: true, payload: parsed.data, verifiedBy };
}
