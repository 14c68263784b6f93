// The store on real Redis topologies started for this file (test/helpers/redis-topology.ts): a
// 3-master Cluster and Sentinel (master, replica, two sentinels). The whole store contract runs
// on each; then what only they can show: the configuration reaches them (no silent fallback to
// the embedded store), and a Sentinel failover during writes loses none that were acknowledged.
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/index.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/types.ts';
import { StoreUnavailableError } from '../../src/store/types.ts';
import { uniquePrefix } from '../helpers/env.ts';
import { redisCommand, startCluster, startSentinel } from '../helpers/redis-topology.ts';
import { storeContract } from './contract.ts';

let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
let sentinel: Awaited<ReturnType<typeof startSentinel>> | undefined;
const clusterUp = async () => (cluster ??= await startCluster());
const sentinelUp = async () => (sentinel ??= await startSentinel());

afterAll(async () => {
  await Promise.allSettled([cluster?.stop(), sentinel?.stop()]);
});

storeContract('redis cluster (3 masters)', async () => RedisStore.connect({ topology: (await clusterUp()).topology, keyPrefix: uniquePrefix('cluster') }));
storeContract('redis sentinel (master + replica, 2 sentinels)', async () => RedisStore.connect({ topology: (await sentinelUp()).topology, keyPrefix: uniquePrefix('sentinel') }));

const env = (vars: Record<string, string>) => ({ CONFIG_FILE: 'config/default.json', ...vars });

describe('redis cluster', () => {
  it('REDIS_CLUSTER_NODES reaches the cluster: two instances share one state (no embedded fallback)', async () => {
    const { ports } = await clusterUp();
    const config = loadConfig(env({ REDIS_CLUSTER_NODES: `127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`, REDIS_KEY_PREFIX: uniquePrefix('cluster-cfg') }));
    expect(config.redis?.kind).toBe('cluster');
    const [a, b] = [await openStore(config), await openStore(config)];
    try {
      expect(a.shared).toBe(true);
      expect(a.description).toMatch(/^redis cluster 127\.0\.0\.1:/);
      // Keys land on all three masters; each instance reads what the other wrote.
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (const k of keys) await a.set(k, { k }, { ttl: 60 });
      for (const k of keys) expect(await b.get(k)).toEqual({ k });
      const owners = new Set<number>();
      for (const k of keys) owners.add(await slotOwner(ports[0]!, `${config.redisKeyPrefix}${k}`));
      expect(owners.size).toBe(3);
      expect(await b.delete(...keys)).toBe(30);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a cluster node given as REDIS_URL is refused at start-up, naming REDIS_CLUSTER_NODES', async () => {
    const { ports } = await clusterUp();
    const err = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[0]}/0`, keyPrefix: 'x:' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/REDIS_URL: .* is a Redis Cluster node: list the cluster's nodes in REDIS_CLUSTER_NODES/);
  });

  it('nodes that are not a cluster are refused, not used as something else', async () => {
    const { topology } = await sentinelUp();
    const master = topology.kind === 'sentinel' ? await sentinel!.masterPort() : 0;
    const err = await RedisStore.connect({ topology: { kind: 'cluster', nodes: [{ host: '127.0.0.1', port: master }], auth: {}, tls: false, waitReplicas: 0 }, keyPrefix: 'x:', connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/^REDIS_CLUSTER_NODES: cannot reach Redis at cluster 127\.0\.0\.1:/);
  });
});

async function slotOwner(port: number, key: string): Promise<number> {
  const slot = Number(await redisCommand(port, 'CLUSTER', 'KEYSLOT', key));
  const slots = (await redisCommand(port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  return range ? range[2][1] : -1;
}

describe('redis sentinel', () => {
  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME reach the master; writes are confirmed by the replica', async () => {
    const { sentinelPorts } = await sentinelUp();
    const config = loadConfig(env({ REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_NAME: 'selfie-test', REDIS_KEY_PREFIX: uniquePrefix('sentinel-cfg') }));
    expect(config.redis).toMatchObject({ kind: 'sentinel', name: 'selfie-test', waitReplicas: 1 });
    const store = await openStore(config);
    try {
      expect(store.description).toMatch(/^redis sentinel selfie-test via .*writes confirmed by 1 replica/);
      await store.set('hello', 'world');
      expect(await store.get('hello')).toBe('world');
    } finally {
      await store.close();
    }
  });

  it('a failover during writes loses no acknowledged write; writes go on on the new master', async () => {
    const group = await sentinelUp();
    const store: Store = await RedisStore.connect({ topology: group.topology, keyPrefix: uniquePrefix('failover') });
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let stop = false;
    // Four writers, each doing what a finished capture does: a status and its webhook together, then an index.
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `${w}-${i}`;
        try {
          await store.writeAll([
            { set: `verdict:{${id}}`, value: { status: 'Approved', id }, ttl: 300 },
            { set: `job:{${id}}`, value: { event_id: `e-${id}` }, ttl: 300 },
          ]);
          await store.indexAdd(`done:${w}`, id, { ttl: 300 });
          acknowledged.push(id);
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          refused.push(id);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    try {
      const writers = [0, 1, 2, 3].map(writer);
      while (acknowledged.length < 50) await new Promise((r) => setTimeout(r, 10));
      const before = await group.masterPort();
      const after = await group.failover();
      expect(after).not.toBe(before);
      // Writes continue on the new master (the old one resyncs as its replica and confirms them).
      const countAtFailover = acknowledged.length;
      const deadline = Date.now() + 20_000;
      while (acknowledged.length < countAtFailover + 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await Promise.all(writers);
      expect(acknowledged.length).toBeGreaterThanOrEqual(countAtFailover + 50);
      for (const id of acknowledged) {
        expect(await store.get(`verdict:{${id}}`)).toEqual({ status: 'Approved', id });
        expect(await store.get(`job:{${id}}`)).toEqual({ event_id: `e-${id}` });
      }
      for (const w of [0, 1, 2, 3]) {
        const members = new Set(await store.indexMembers(`done:${w}`));
        for (const id of acknowledged.filter((a) => a.startsWith(`${w}-`))) expect(members.has(id)).toBe(true);
      }
    } finally {
      stop = true;
      await store.close();
    }
  }, 60_000);
});
