// The shared Didit Sessions API v3 contract: types, receiver schemas, webhook signing, client.
export * from './types.ts';
export * from './schemas.ts';
export {
  DEFAULT_MAX_SKEW_SECONDS,
  canonicalJson,
  canonicalJsonFromRaw,
  compareCodePoints,
  formatNumber,
  hmacSha256Hex,
  signWebhook,
  simpleSignatureInput,
  verifyWebhook,
  wireJson,
} from './signing.ts';
export type {
  HeaderSource,
  SignableWebhook,
  SignedWebhook,
  VerifyFailureReason,
  VerifyOptions,
  VerifyResult,
  WebhookSignatureHeaders,
} from './signing.ts';
export { DEFAULT_BASE_URL, DiditApiError, DiditClient, DiditError } from './client.ts';
export type { DiditClientOptions, DiditErrorKind } from './client.ts';
