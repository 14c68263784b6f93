import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

// Request lines are built from chosen fields only; these paths catch anything passed by mistake.
const REDACT = [
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.password',
  '*.client_secret',
  '*.secret',
  '*.apiKey',
  '*.portrait_image',
  '*.image',
  '*.embedding',
  // An analysis asked for the previous model's embedding carries it one level deeper.
  '*.legacy.embedding',
  '*.*.legacy.embedding',
  '*.template',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'selfie-idp' }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? process.stdout,
  );
}
