// One typed configuration, read and validated once at start-up. Every later module receives
// the parsed object; nothing else reads process.env.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ACR } from './idp/signin/acr.ts';
import { redisEnvShape, redisTopology } from './store/redis-config.ts';
import type { RedisTopology } from './store/redis-config.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const seconds = z.coerce.number().int().positive();
const livenessMethod = z.enum(['PASSIVE', 'FLASHING', 'ACTIVE_3D'], 'must be PASSIVE, FLASHING or ACTIVE_3D');

const fileDefaultsSchema = z.object({
  ttl: z.object({
    accessToken: seconds,
    authorizationCode: seconds,
    idToken: seconds,
    interaction: seconds,
    session: seconds,
    grant: seconds,
    refreshToken: seconds,
  }),
  // Names outside tools rely on (issue 13): listed in the file for the reader, never renamed.
  acr: z.object({
    face: z.literal(ACR.face, `must be ${ACR.face}`),
    faceActive: z.literal(ACR.faceActive, `must be ${ACR.faceActive}`),
    mfa: z.literal(ACR.mfa, `must be ${ACR.mfa}`),
    passkey: z.literal(ACR.passkey, `must be ${ACR.passkey}`),
  }),
  signin: z.object({
    maxAttempts: z.number().int().min(1).max(10),
    webhookWaitSeconds: z.number().positive().max(30),
    lookupsPerIpPerHour: z.number().int().min(1),
    verificationsPerIpPerHour: z.number().int().min(1),
    /** A verification session stays bound to the sign-in that opened it this long: past the service's session expiry (Didit: 7 days). */
    sessionBindingDays: z.number().int().min(1).max(365),
  }),
  /** Face throttling per account (src/idp/signin/throttle.ts). */
  throttle: z
    .object({
      freeFailures: z.number().int().min(1).max(1000),
      firstDelaySeconds: z.number().int().min(1),
      maxDelaySeconds: z.number().int().min(1),
      disableAfter: z.number().int().min(2),
    })
    .refine((t) => t.disableAfter > t.freeFailures, { message: 'disableAfter must be greater than freeFailures', path: ['disableAfter'] })
    .refine((t) => t.maxDelaySeconds >= t.firstDelaySeconds, { message: 'maxDelaySeconds must be at least firstDelaySeconds', path: ['maxDelaySeconds'] }),
  /** The risk policy (src/idp/signin/risk.ts). */
  risk: z.object({
    knownDevice: livenessMethod,
    newDevice: livenessMethod,
    listedIp: livenessMethod,
    maxDevicesPerAccount: z.number().int().min(1).max(1000),
    ipListsReloadSeconds: z.number().min(0).max(3600),
  }),
  passkeys: z.object({ offerAfterFaceSignin: z.boolean() }),
  /** Verified emails (src/idp/email): the confirmation link and the expiry of accounts never confirmed. */
  signup: z.object({
    unverifiedAccountDays: z.number().int().min(1).max(365),
    verificationLinkHours: z.number().int().min(1).max(24 * 14),
    verificationMailsPerHour: z.number().int().min(1).max(100),
    expirySweepMinutes: z.number().int().min(1).max(24 * 60),
  }),
  /** The operator console (src/idp/admin). */
  admin: z.object({
    requiredAcr: z.enum([ACR.mfa, ACR.faceActive, ACR.face], `must be ${ACR.mfa}, ${ACR.faceActive} or ${ACR.face}`),
    idleMinutes: z.number().int().min(1).max(240),
    /** Sign-ins kept per account (time, acr/amr, IP, device), shown on /account and in the console. */
    signinHistoryLength: z.number().int().min(1).max(200),
  }),
});

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// 32 random bytes in base64: PORTRAIT_KEY and KEYS_ENCRYPTION_KEY (AES-256-GCM keys).
const KEY_32 = /^[A-Za-z0-9+/_-]{43}=?$/;
const KEY_32_MESSAGE = 'must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * TRUST_PROXY_HOPS: how many proxies in front of us append to X-Forwarded-For. The client's
 * address is that many entries from the right; anything further left was written by the client
 * and is not trusted. Shared with the verifier's config so both read it the same way.
 */
export const trustProxyHops = z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').default(1);

// Environment variable name → schema. The names are a public contract (README table).
const envSchema = z.object({
  // Unset: http://localhost:<PORT>, so a local run on another port is still self-consistent.
  ISSUER: z
    .url({ protocol: /^https?$/ })
    .optional()
    .refine((u) => u === undefined || !u.endsWith('/'), 'must not end with a slash')
    .refine((u) => u === undefined || !/[?#]/.test(u), 'must not have a query or fragment'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  // Metrics have their own listener, private by default: they tell a scanner what runs and how busy.
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // SIGTERM: /readyz says 503 for the drain delay (a balancer's checks take the instance out), work
  // in flight then finishes; the process exits when it has, or when the grace period ends.
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int('must be a whole number of seconds').min(1).max(3600).default(25),
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().min(0).max(600).default(0),
  // REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES and their settings (store/redis-config.ts).
  ...redisEnvShape,
  DATA_DIR: z.string().min(1).default('data'),
  CLIENTS_FILE: z.string().min(1).default('config/clients.json'),
  JWKS_FILE: z.string().min(1).optional(),
  COOKIE_KEYS: z.string().min(1).optional(),
  COOKIE_KEYS_FILE: z.string().min(1).optional(),
  LOG_LEVEL: logLevel.default('info'),
  TRUST_PROXY: bool.default(false),
  TRUST_PROXY_HOPS: trustProxyHops,
  CONFIG_FILE: z.string().min(1).default('config/default.json'),
  // The operator's Tor / VPN / data-centre CIDR lists (tor.txt, vpn.txt, datacenter.txt); unset: DATA_DIR/ip-lists.
  IP_LISTS_DIR: z.string().min(1).optional(),
  // Set DIDIT_API_KEY to use a verification service over the network (the real Didit service,
  // or an embedded verifier run elsewhere); unset, the embedded verifier runs in this process.
  DIDIT_API_KEY: z.string().min(1).optional(),
  DIDIT_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://verification.didit.me'),
  DIDIT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  DIDIT_REAUTH_WORKFLOW_ID: z.string().min(1).optional(),
  DIDIT_ENROL_WORKFLOW_ID: z.string().min(1).optional(),
  // Sign-in workflows with a challenge method at the service, for face-active and step-up (optional).
  DIDIT_REAUTH_ACTIVE_3D_WORKFLOW_ID: z.string().min(1).optional(),
  DIDIT_REAUTH_FLASHING_WORKFLOW_ID: z.string().min(1).optional(),
  PORTRAIT_KEY: z.string().regex(KEY_32, KEY_32_MESSAGE).optional(),
  // Seals generated signing and cookie keys in the store; kept apart from the store (README).
  KEYS_ENCRYPTION_KEY: z.string().regex(KEY_32, KEY_32_MESSAGE).optional(),
  KEYS_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
  // Mail (address confirmation). Unset SMTP_URL: mails go to the log and DATA_DIR/outbox (development).
  SMTP_URL: z
    .url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL (smtp://user:pass@host:587)' })
    .optional(),
  // An address, or a display name and an address: `selfie-idp <no-reply@example.com>`.
  MAIL_FROM: z
    .string()
    .max(320)
    .regex(/^(?:[^<>\r\n]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/, 'must be an address or "Name <address>"')
    .optional(),
});

export type Config = {
  issuer: string;
  port: number;
  host: string;
  /** The Prometheus listener; port 0 picks a free port (tests), logged at start. */
  metrics: { port: number; host: string };
  /** SHUTDOWN_GRACE_SECONDS / SHUTDOWN_DRAIN_SECONDS, in ms (src/shutdown.ts). */
  shutdown: { graceMs: number; drainMs: number };
  /** The Redis topology (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES); undefined: the embedded store. */
  redis: RedisTopology | undefined;
  redisKeyPrefix: string;
  dataDir: string;
  clientsFile: string;
  jwksFile: string | undefined;
  cookieKeys: string[] | undefined;
  /** KEYS_ENCRYPTION_KEY(_FILE); unset: generated in DATA_DIR (embedded store) or refused (Redis) when needed. */
  keysEncryptionKey: { key: Buffer; source: string } | undefined;
  logLevel: z.infer<typeof logLevel>;
  trustProxy: boolean;
  /** Koa's maxIpsCount on every app that reads client IPs (see trustProxyHops). */
  trustProxyHops: number;
  ttl: z.infer<typeof fileDefaultsSchema>['ttl'];
  acr: z.infer<typeof fileDefaultsSchema>['acr'];
  signin: z.infer<typeof fileDefaultsSchema>['signin'];
  throttle: z.infer<typeof fileDefaultsSchema>['throttle'];
  risk: z.infer<typeof fileDefaultsSchema>['risk'];
  passkeys: z.infer<typeof fileDefaultsSchema>['passkeys'];
  signup: z.infer<typeof fileDefaultsSchema>['signup'];
  /** SMTP_URL / MAIL_FROM; smtpUrl unset: the development outbox (src/idp/email/mailer.ts). */
  mail: { smtpUrl: string | undefined; from: string };
  admin: z.infer<typeof fileDefaultsSchema>['admin'];
  /** IP_LISTS_DIR: where the operator's CIDR lists are (src/risk/ip-lists.ts). */
  ipListsDir: string;
  /** Remote: DIDIT_* point at a verification service. Embedded: filled in when it starts. */
  verification:
    | {
        mode: 'remote';
        baseUrl: string;
        apiKey: string;
        webhookSecret: string;
        reauthWorkflowId: string;
        enrolWorkflowId: string;
        challengeWorkflowIds: { ACTIVE_3D?: string; FLASHING?: string };
        portraitKey: Buffer | undefined;
      }
    | { mode: 'embedded' };
};

function describe(issues: z.core.$ZodIssue[], prefix: string): string[] {
  return issues.map((i) => `${prefix}${i.path.join('.') || '(root)'}: ${i.message}`);
}

// A path the operator gives is relative to the working directory, as shells expect; a default
// is relative to the installation, so `npx selfie-idp` finds config/ from any directory.
function resolvePath(env: NodeJS.ProcessEnv, name: string, value: string): string {
  return env[name] ? path.resolve(value) : path.resolve(REPO_ROOT, value);
}

function readJsonFile(file: string, what: string): unknown {
  if (!existsSync(file)) throw new ConfigError([`${what}: file ${file} does not exist`]);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${what}: ${file} is not valid JSON (${(err as Error).message})`]);
  }
}

function parseCookieKeys(raw: string, what: string): string[] {
  const keys = raw.split(',').map((k) => k.trim()).filter(Boolean);
  const short = keys.filter((k) => k.length < 32);
  if (keys.length === 0 || short.length > 0) {
    throw new ConfigError([`${what}: needs one or more comma-separated keys of at least 32 characters`]);
  }
  return keys;
}

/** IP_LISTS_DIR, or DATA_DIR/ip-lists; shared by the IdP and the verifier (same variable). */
export function ipListsDir(env: Record<string, string | undefined>, dataDir: string): string {
  return env.IP_LISTS_DIR ? path.resolve(env.IP_LISTS_DIR) : path.join(dataDir, 'ip-lists');
}

/** Parse the environment (and the files it names). Throws ConfigError naming each bad variable. */
export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`REDIS_URL=`) means unset, as in most deployment tools.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(describe(parsed.error.issues, ''));
  const e = parsed.data;
  const { topology: redis, errors: redisErrors } = redisTopology(e);
  if (redisErrors.length) throw new ConfigError(redisErrors);

  const configFile = resolvePath(env, 'CONFIG_FILE', e.CONFIG_FILE);
  const defaults = fileDefaultsSchema.safeParse(readJsonFile(configFile, 'CONFIG_FILE'));
  if (!defaults.success) throw new ConfigError(describe(defaults.error.issues, `CONFIG_FILE (${configFile}) `));

  let cookieKeys: string[] | undefined;
  if (e.COOKIE_KEYS && e.COOKIE_KEYS_FILE) {
    throw new ConfigError(['COOKIE_KEYS and COOKIE_KEYS_FILE: set one, not both']);
  }
  if (e.COOKIE_KEYS) cookieKeys = parseCookieKeys(e.COOKIE_KEYS, 'COOKIE_KEYS');
  if (e.COOKIE_KEYS_FILE) {
    const file = path.resolve(e.COOKIE_KEYS_FILE);
    if (!existsSync(file)) throw new ConfigError([`COOKIE_KEYS_FILE: file ${file} does not exist`]);
    cookieKeys = parseCookieKeys(readFileSync(file, 'utf8').replace(/\n/g, ','), 'COOKIE_KEYS_FILE');
  }

  let keysEncryptionKey: Config['keysEncryptionKey'];
  if (e.KEYS_ENCRYPTION_KEY && e.KEYS_ENCRYPTION_KEY_FILE) {
    throw new ConfigError(['KEYS_ENCRYPTION_KEY and KEYS_ENCRYPTION_KEY_FILE: set one, not both']);
  }
  if (e.KEYS_ENCRYPTION_KEY) keysEncryptionKey = { key: Buffer.from(e.KEYS_ENCRYPTION_KEY, 'base64'), source: 'KEYS_ENCRYPTION_KEY' };
  if (e.KEYS_ENCRYPTION_KEY_FILE) {
    const file = path.resolve(e.KEYS_ENCRYPTION_KEY_FILE);
    if (!existsSync(file)) throw new ConfigError([`KEYS_ENCRYPTION_KEY_FILE: file ${file} does not exist`]);
    const text = readFileSync(file, 'utf8').trim();
    if (!KEY_32.test(text)) throw new ConfigError([`KEYS_ENCRYPTION_KEY_FILE: ${file} ${KEY_32_MESSAGE}`]);
    keysEncryptionKey = { key: Buffer.from(text, 'base64'), source: `KEYS_ENCRYPTION_KEY_FILE ${file}` };
  }

  // The drain delay is spent inside the grace period; what is left must finish the work in flight.
  if (e.SHUTDOWN_DRAIN_SECONDS >= e.SHUTDOWN_GRACE_SECONDS) {
    throw new ConfigError([`SHUTDOWN_DRAIN_SECONDS: must be less than SHUTDOWN_GRACE_SECONDS (${e.SHUTDOWN_GRACE_SECONDS})`]);
  }

  let verification: Config['verification'] = { mode: 'embedded' };
  if (e.DIDIT_API_KEY) {
    const missing = (['DIDIT_WEBHOOK_SECRET', 'DIDIT_REAUTH_WORKFLOW_ID', 'DIDIT_ENROL_WORKFLOW_ID'] as const).filter((n) => !e[n]);
    if (missing.length) throw new ConfigError(missing.map((n) => `${n}: required when DIDIT_API_KEY is set`));
    verification = {
      mode: 'remote',
      baseUrl: e.DIDIT_BASE_URL.replace(/\/+$/, ''),
      apiKey: e.DIDIT_API_KEY,
      webhookSecret: e.DIDIT_WEBHOOK_SECRET!,
      reauthWorkflowId: e.DIDIT_REAUTH_WORKFLOW_ID!,
      enrolWorkflowId: e.DIDIT_ENROL_WORKFLOW_ID!,
      challengeWorkflowIds: {
        ...(e.DIDIT_REAUTH_ACTIVE_3D_WORKFLOW_ID ? { ACTIVE_3D: e.DIDIT_REAUTH_ACTIVE_3D_WORKFLOW_ID } : {}),
        ...(e.DIDIT_REAUTH_FLASHING_WORKFLOW_ID ? { FLASHING: e.DIDIT_REAUTH_FLASHING_WORKFLOW_ID } : {}),
      },
      portraitKey: e.PORTRAIT_KEY ? Buffer.from(e.PORTRAIT_KEY, 'base64') : undefined,
    };
  }

  return {
    issuer: e.ISSUER ?? `http://localhost:${e.PORT}`,
    port: e.PORT,
    host: e.HOST,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    shutdown: { graceMs: e.SHUTDOWN_GRACE_SECONDS * 1000, drainMs: e.SHUTDOWN_DRAIN_SECONDS * 1000 },
    redis,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    dataDir: resolvePath(env, 'DATA_DIR', e.DATA_DIR),
    clientsFile: resolvePath(env, 'CLIENTS_FILE', e.CLIENTS_FILE),
    jwksFile: e.JWKS_FILE ? path.resolve(e.JWKS_FILE) : undefined,
    cookieKeys,
    keysEncryptionKey,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    ttl: defaults.data.ttl,
    acr: defaults.data.acr,
    signin: defaults.data.signin,
    throttle: defaults.data.throttle,
    risk: defaults.data.risk,
    passkeys: defaults.data.passkeys,
    signup: defaults.data.signup,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? `selfie-idp <no-reply@${new URL(e.ISSUER ?? 'http://localhost').hostname}>` },
    admin: defaults.data.admin,
    ipListsDir: ipListsDir(env, resolvePath(env, 'DATA_DIR', e.DATA_DIR)),
    verification,
  };
}
