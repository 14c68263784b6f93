// The Redis variables: exactly one topology, or a ConfigError naming the variable (never a
// silent fallback to the embedded store).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { loadVerifierConfig } from '../../src/verifier/config.ts';
import { describeTopology } from '../../src/store/redis-config.ts';
import { configError } from '../helpers/env.ts';

const load = (vars: Record<string, string>) => loadConfig({ CONFIG_FILE: 'config/default.json', ...vars });

describe('Redis topology configuration', () => {
  it('reads each topology', () => {
    expect(load({ REDIS_URL: 'rediss://app:pw@redis.internal:6380/2' }).redis).toEqual({ kind: 'single', url: 'rediss://app:pw@redis.internal:6380/2', waitReplicas: 0 });
    expect(load({ REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'main', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw', REDIS_TLS: 'true' }).redis).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'main',
      auth: { username: 'app', password: 'pw' },
      sentinelAuth: { username: undefined, password: 'spw' },
      tls: true,
      waitReplicas: 1,
    });
    const cluster = load({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000', REDIS_PASSWORD: 'secret', REDIS_WAIT_REPLICAS: '1' }).redis;
    expect(cluster).toMatchObject({ kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }], waitReplicas: 1, tls: false });
    expect(describeTopology(cluster!)).toBe('cluster 10.0.0.1:7000,10.0.0.2:7000');
    expect(load({}).redis).toBeUndefined();
  });

  it('refuses two topologies, missing or stray settings, bad seeds and a prefix with braces', () => {
    expect(configError(() => load({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }))).toMatch(/REDIS_URL, REDIS_CLUSTER_NODES: set one Redis topology/);
    expect(configError(() => load({ REDIS_SENTINELS: 'a:26379' }))).toMatch(/REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/);
    expect(configError(() => load({ REDIS_SENTINEL_NAME: 'main' }))).toMatch(/REDIS_SENTINEL_NAME: only meaningful with REDIS_SENTINELS/);
    expect(configError(() => load({ REDIS_CLUSTER_NODES: 'a:7000,b', REDIS_KEY_PREFIX: 'x:' }))).toMatch(/REDIS_CLUSTER_NODES: "b" is not host:port/);
    expect(configError(() => load({ REDIS_CLUSTER_NODES: ' , ' }))).toMatch(/REDIS_CLUSTER_NODES: needs at least one host:port/);
    expect(configError(() => load({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'pw' }))).toMatch(/REDIS_PASSWORD: for REDIS_SENTINELS or REDIS_CLUSTER_NODES; with REDIS_URL put the user/);
    expect(configError(() => load({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINEL_PASSWORD: 'x' }))).toMatch(/REDIS_SENTINEL_PASSWORD: only meaningful with REDIS_SENTINELS/);
    expect(configError(() => load({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_KEY_PREFIX: 'app{1}:' }))).toMatch(/REDIS_KEY_PREFIX: must not contain \{ or \}/);
    expect(configError(() => load({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'yes' }))).toMatch(/REDIS_TLS/);
  });

  it('the verifier reads the same variables', () => {
    const config = loadVerifierConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', VERIFIER_API_KEYS: 'k'.repeat(32), VERIFIER_WEBHOOK_SECRET: 's'.repeat(32), VERIFIER_TEMPLATE_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` });
    expect(config.redis).toMatchObject({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }] });
    expect(configError(() => loadVerifierConfig({ REDIS_SENTINELS: '127.0.0.1:26379' }))).toMatch(/REDIS_SENTINEL_NAME: required/);
  });
});
