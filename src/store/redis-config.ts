// Which Redis the store talks to, read from the environment by both the IdP's and the verifier's
// config (they share the variables). Three topologies, exactly one at a time:
//   REDIS_URL                                   one server (redis:// or rediss://, ACL user:password in it)
//   REDIS_SENTINELS + REDIS_SENTINEL_NAME       Sentinel: the sentinels to ask, the master's name
//   REDIS_CLUSTER_NODES                         Cluster: some nodes to learn the slot map from
// For Sentinel and Cluster the credentials and TLS of the data nodes come from REDIS_USERNAME,
// REDIS_PASSWORD and REDIS_TLS (a URL names one server, so it cannot carry them), and the
// sentinels' own from REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD.
//
// A topology that is configured is used or start-up fails: never a silent fallback to the embedded
// store (instances that fell back each had their own state, and sign-ins across them failed).
import { z } from 'zod';

export type HostPort = { host: string; port: number };
export type RedisAuth = { username?: string | undefined; password?: string | undefined };

/**
 * waitReplicas: a write is acknowledged only once that many replicas have it (WAIT), so that a
 * failover cannot take back a write a caller was told succeeded (a verdict, a queued webhook).
 */
export type RedisTopology = { waitReplicas: number } & (
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; auth: RedisAuth; sentinelAuth: RedisAuth; tls: boolean }
  | { kind: 'cluster'; nodes: HostPort[]; auth: RedisAuth; tls: boolean }
);

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** The variables, for the env schemas of src/config.ts and src/verifier/config.ts. */
export const redisEnvShape = {
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  REDIS_SENTINELS: z.string().optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_TLS: flag.optional(),
  REDIS_SENTINEL_USERNAME: z.string().min(1).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  // Replicas that must confirm each write; default 1 with Sentinel (a failover promotes a replica), else 0.
  REDIS_WAIT_REPLICAS: z.coerce.number().int('must be a whole number').min(0).max(16).optional(),
  // Braces would make Redis Cluster hash the prefix instead of the keys' own hash tags.
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/, 'must not contain { or } (Redis Cluster hash tags)')
    .default('selfie-idp:'),
};

type RedisEnv = z.output<z.ZodObject<typeof redisEnvShape>>;

function hostPorts(variable: string, text: string, errors: string[]): HostPort[] {
  const list: HostPort[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    // host:port, or [v6]:port
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(part);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) {
      errors.push(`${variable}: "${part}" is not host:port`);
      continue;
    }
    list.push({ host: (m[1] ?? m[2]) as string, port });
  }
  if (list.length === 0 && errors.length === 0) errors.push(`${variable}: needs at least one host:port`);
  return list;
}

/**
 * The configured topology (undefined: none, the embedded store), or the problems, one line per
 * variable, for the caller to throw as its ConfigError.
 */
export function redisTopology(e: RedisEnv): { topology: RedisTopology | undefined; errors: string[] } {
  const errors: string[] = [];
  const chosen = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((n) => e[n] !== undefined);
  if (chosen.length > 1) return { topology: undefined, errors: [`${chosen.join(', ')}: set one Redis topology, not ${chosen.length}`] };
  if (e.REDIS_SENTINEL_NAME && !e.REDIS_SENTINELS) errors.push('REDIS_SENTINEL_NAME: only meaningful with REDIS_SENTINELS');
  const nodeSettings = (['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS'] as const).filter((n) => e[n] !== undefined);
  const sentinelSettings = (['REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'] as const).filter((n) => e[n] !== undefined);
  if (!e.REDIS_SENTINELS && !e.REDIS_CLUSTER_NODES && nodeSettings.length) {
    errors.push(`${nodeSettings.join(', ')}: for REDIS_SENTINELS or REDIS_CLUSTER_NODES; with REDIS_URL put the user, password and rediss:// in the URL`);
  }
  if (!e.REDIS_SENTINELS && sentinelSettings.length) errors.push(`${sentinelSettings.join(', ')}: only meaningful with REDIS_SENTINELS`);
  const auth: RedisAuth = { username: e.REDIS_USERNAME, password: e.REDIS_PASSWORD };
  const tls = e.REDIS_TLS ?? false;

  let topology: RedisTopology | undefined;
  const waitReplicas = e.REDIS_WAIT_REPLICAS ?? (e.REDIS_SENTINELS ? 1 : 0);
  if (e.REDIS_URL) topology = { kind: 'single', url: e.REDIS_URL, waitReplicas };
  else if (e.REDIS_SENTINELS) {
    const sentinels = hostPorts('REDIS_SENTINELS', e.REDIS_SENTINELS, errors);
    if (!e.REDIS_SENTINEL_NAME) errors.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name the sentinels monitor the master under)');
    const sentinelAuth: RedisAuth = { username: e.REDIS_SENTINEL_USERNAME, password: e.REDIS_SENTINEL_PASSWORD };
    topology = { kind: 'sentinel', sentinels, name: e.REDIS_SENTINEL_NAME ?? '', auth, sentinelAuth, tls, waitReplicas };
  } else if (e.REDIS_CLUSTER_NODES) {
    topology = { kind: 'cluster', nodes: hostPorts('REDIS_CLUSTER_NODES', e.REDIS_CLUSTER_NODES, errors), auth, tls, waitReplicas };
  }
  return errors.length ? { topology: undefined, errors } : { topology, errors };
}

/** For logs and errors: never a password. */
export function describeTopology(t: RedisTopology): string {
  const list = (hs: HostPort[]) => hs.map((h) => `${h.host}:${h.port}`).join(',');
  if (t.kind === 'single') return redactUrl(t.url);
  const user = t.auth.username ? ` as ${t.auth.username}` : '';
  if (t.kind === 'sentinel') return `sentinel ${t.name} via ${list(t.sentinels)}${t.tls ? ' (tls)' : ''}${user}`;
  return `cluster ${list(t.nodes)}${t.tls ? ' (tls)' : ''}${user}`;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
