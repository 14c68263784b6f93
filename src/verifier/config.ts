// The verifier's configuration: its own VERIFIER_* variables plus the shared DATA_DIR, REDIS_URL,
// REDIS_KEY_PREFIX, LOG_LEVEL and TRUST_PROXY. Read once; every module gets the parsed object.
// docs/verifier.md has the table.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, REPO_ROOT, ipListsDir, trustProxyHops } from '../config.ts';
import { redisEnvShape, redisTopology } from '../store/redis-config.ts';
import type { RedisTopology } from '../store/redis-config.ts';
import { duration } from './durations.ts';
import { persistedSecrets } from './secrets.ts';
import type { SecretName, SecretNote } from './secrets.ts';
import { loadWorkflows } from './workflows.ts';
import type { Workflow } from './workflows.ts';

/** The same shape as the face engine's keyring: the current key id seals, every listed key opens. */
export type TemplateKeyring = { current: string; keys: Record<string, Buffer> };

export type RateLimitClass = 'create' | 'read' | 'write';

export type VerifierConfig = {
  port: number;
  host: string;
  /** Base of every session `url` and media URL; no trailing slash. */
  publicUrl: string;
  dataDir: string;
  /** IP_LISTS_DIR (shared with the IdP): the operator's CIDR lists for IP analysis. */
  ipListsDir: string;
  redis: RedisTopology | undefined;
  redisKeyPrefix: string;
  trustProxy: boolean;
  /** TRUST_PROXY_HOPS, as for the IdP: Koa's maxIpsCount. */
  trustProxyHops: number;
  logLevel: string;
  /** SHA-256 of each accepted API key; the keys themselves are not kept. */
  apiKeyHashes: Buffer[];
  /** The generated dev key (only when VERIFIER_API_KEYS is unset), for the operator's tools. */
  devApiKey: string | undefined;
  webhookUrl: string | undefined;
  webhookSecret: string;
  templateKeyring: TemplateKeyring;
  /** What was generated in or loaded from DATA_DIR; logged loudly at start-up. */
  secretNotes: SecretNote[];
  workflowsFile: string;
  workflows: Workflow[];
  sessionExpiryMs: number;
  captureWindowMs: number;
  sessionRetentionMs: number;
  retainMediaDefault: boolean;
  rateLimits: Record<RateLimitClass, number>;
  rateLimitWindowMs: number;
  webhookTimeoutMs: number;
  /** Delay before each retry; attempts = retries + 1. */
  webhookRetryDelaysMs: number[];
  queuePollMs: number;
  /** How long a worker may hold a job before another may take it over (a crashed worker). */
  queueClaimMs: number;
  facePoolSize: number | undefined;
  /** Webhook envelope `application_id`: stable per public URL. */
  applicationId: string;
};

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const SECOND = 1000;
const DAY = 86_400_000;

const envSchema = z.object({
  VERIFIER_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  VERIFIER_HOST: z.string().min(1).optional(),
  HOST: z.string().min(1).default('0.0.0.0'),
  VERIFIER_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .refine((u) => u === undefined || !/[?#]/.test(u), 'must not have a query or fragment'),
  VERIFIER_API_KEYS: z
    .string()
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .refine((keys) => keys.length > 0, 'needs at least one key')
    .refine((keys) => keys.every((k) => k.length >= 16), 'every key must be at least 16 characters')
    .optional(),
  VERIFIER_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  VERIFIER_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  VERIFIER_WORKFLOWS_FILE: z.string().min(1).default('config/workflows.json'),
  VERIFIER_TEMPLATE_KEYS: z.string().min(1).optional(),
  VERIFIER_SESSION_EXPIRY: duration(SECOND, 365 * DAY).default(7 * DAY),
  VERIFIER_CAPTURE_WINDOW: duration(SECOND, DAY).default(30 * 60 * SECOND),
  VERIFIER_SESSION_RETENTION: duration(SECOND, 3650 * DAY).default(30 * DAY),
  VERIFIER_RETAIN_MEDIA: bool.default(false),
  VERIFIER_RATE_LIMITS: z.string().default('create=600,read=600,write=300'),
  VERIFIER_RATE_LIMIT_WINDOW: duration(SECOND, DAY).default(60 * SECOND),
  VERIFIER_WEBHOOK_TIMEOUT: duration(100, 60 * SECOND).default(5 * SECOND),
  VERIFIER_WEBHOOK_RETRY_DELAYS: z.string().default('1m,4m'),
  VERIFIER_QUEUE_POLL_INTERVAL: duration(10, 60 * SECOND).default(SECOND),
  VERIFIER_QUEUE_CLAIM_TIMEOUT: duration(SECOND, 10 * 60 * SECOND).default(30 * SECOND),
  VERIFIER_FACE_POOL_SIZE: z.coerce.number().int().min(1).max(64).optional(),
  DATA_DIR: z.string().min(1).default('data'),
  ...redisEnvShape,
  LOG_LEVEL: z.string().default('info'),
  TRUST_PROXY: bool.default(false),
  TRUST_PROXY_HOPS: trustProxyHops,
});

function resolvePath(env: Record<string, string>, name: string, value: string): string {
  return env[name] ? path.resolve(value) : path.resolve(REPO_ROOT, value);
}

function parseRateLimits(text: string): Record<RateLimitClass, number> {
  const out: Record<RateLimitClass, number> = { create: 600, read: 600, write: 300 };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(create|read|write)=(\d+)$/.exec(part);
    if (!m || Number(m[2]) < 1) throw new ConfigError([`VERIFIER_RATE_LIMITS: "${part}" is not class=count (classes: create, read, write; count ≥ 1)`]);
    out[m[1] as RateLimitClass] = Number(m[2]);
  }
  return out;
}

function parseRetryDelays(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  const schema = duration(10, DAY);
  return parts.map((p) => {
    const r = schema.safeParse(p);
    if (!r.success) throw new ConfigError([`VERIFIER_WEBHOOK_RETRY_DELAYS: "${p}" ${r.error.issues[0]?.message ?? 'is invalid'}`]);
    return r.data;
  });
}

const KID = /^[A-Za-z0-9._-]{1,32}$/;

/** `kid:base64key,...`; the first key seals new templates, all of them open old ones. */
export function parseTemplateKeys(text: string, variable = 'VERIFIER_TEMPLATE_KEYS'): TemplateKeyring {
  const keys: Record<string, Buffer> = {};
  let current: string | undefined;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const kid = part.slice(0, colon);
    const key = Buffer.from(part.slice(colon + 1), 'base64');
    if (colon < 1 || !KID.test(kid)) throw new ConfigError([`${variable}: each entry must be kid:base64key (kid of letters, digits, . _ -)`]);
    if (key.length !== 32) throw new ConfigError([`${variable}: key ${kid} must be 32 bytes in base64 (openssl rand -base64 32)`]);
    if (keys[kid]) throw new ConfigError([`${variable}: key id ${kid} appears twice`]);
    keys[kid] = key;
    current ??= kid;
  }
  if (!current) throw new ConfigError([`${variable}: needs at least one kid:base64key`]);
  return { current, keys };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export type VerifierConfigDefaults = {
  /** Where webhooks go when VERIFIER_WEBHOOK_URL is unset (the embedded IdP's receiver). */
  webhookUrl?: string;
};

/** Parse the environment (and the workflows file). Throws ConfigError naming each bad variable. */
export function loadVerifierConfig(rawEnv: NodeJS.ProcessEnv = process.env, defaults: VerifierConfigDefaults = {}): VerifierConfig {
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const e = parsed.data;
  const { topology: redis, errors: redisErrors } = redisTopology(e);
  if (redisErrors.length) throw new ConfigError(redisErrors);

  const dataDir = resolvePath(env, 'DATA_DIR', e.DATA_DIR);
  const publicUrl = (e.VERIFIER_PUBLIC_URL ?? `http://localhost:${e.VERIFIER_PORT}`).replace(/\/+$/, '');
  const rateLimits = parseRateLimits(e.VERIFIER_RATE_LIMITS);
  const webhookRetryDelaysMs = parseRetryDelays(e.VERIFIER_WEBHOOK_RETRY_DELAYS);
  const templateKeyring = e.VERIFIER_TEMPLATE_KEYS ? parseTemplateKeys(e.VERIFIER_TEMPLATE_KEYS) : undefined;
  const workflowsFile = resolvePath(env, 'VERIFIER_WORKFLOWS_FILE', e.VERIFIER_WORKFLOWS_FILE);
  const workflows = loadWorkflows(workflowsFile, e.VERIFIER_RETAIN_MEDIA);

  // Only now touch DATA_DIR: a bad variable should not leave a secrets file behind.
  const missing: SecretName[] = [];
  if (!e.VERIFIER_API_KEYS) missing.push('api_key');
  if (!e.VERIFIER_WEBHOOK_SECRET) missing.push('webhook_secret');
  if (!templateKeyring) missing.push('template_keys');
  const persisted = persistedSecrets(dataDir, missing);
  const devApiKey = persisted.values.api_key;
  const apiKeys = e.VERIFIER_API_KEYS ?? [devApiKey!];

  return {
    port: e.VERIFIER_PORT,
    host: e.VERIFIER_HOST ?? e.HOST,
    publicUrl,
    dataDir,
    ipListsDir: ipListsDir(env, dataDir),
    redis,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    trustProxy: e.TRUST_PROXY,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    logLevel: e.LOG_LEVEL,
    apiKeyHashes: apiKeys.map(hashApiKey),
    devApiKey,
    webhookUrl: e.VERIFIER_WEBHOOK_URL ?? defaults.webhookUrl,
    webhookSecret: e.VERIFIER_WEBHOOK_SECRET ?? persisted.values.webhook_secret!,
    templateKeyring: templateKeyring ?? parseTemplateKeys(persisted.values.template_keys!, `DATA_DIR (${persisted.notes[0]?.file}) template_keys`),
    secretNotes: persisted.notes,
    workflowsFile,
    workflows,
    sessionExpiryMs: e.VERIFIER_SESSION_EXPIRY,
    captureWindowMs: e.VERIFIER_CAPTURE_WINDOW,
    sessionRetentionMs: e.VERIFIER_SESSION_RETENTION,
    retainMediaDefault: e.VERIFIER_RETAIN_MEDIA,
    rateLimits,
    rateLimitWindowMs: e.VERIFIER_RATE_LIMIT_WINDOW,
    webhookTimeoutMs: e.VERIFIER_WEBHOOK_TIMEOUT,
    webhookRetryDelaysMs,
    queuePollMs: e.VERIFIER_QUEUE_POLL_INTERVAL,
    queueClaimMs: e.VERIFIER_QUEUE_CLAIM_TIMEOUT,
    facePoolSize: e.VERIFIER_FACE_POOL_SIZE,
    applicationId: applicationIdFor(publicUrl),
  };
}

/** A UUID-shaped id derived from the public URL, so it is stable across restarts and instances. */
function applicationIdFor(publicUrl: string): string {
  const h = createHash('sha256').update(`selfie-idp verifier ${publicUrl}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
