// Real Redis topologies for tests, each in its own temp dir on free loopback ports (never the
// machine's shared Redis on 6379): one server with append-only persistence that a test may stop
// and restart, a 3-master Cluster (redis-cli --cluster create), and Sentinel (a master, a replica,
// two sentinels). Everything started here is killed by stop(), which tests call in afterAll.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTopology } from '../../src/store/redis-config.ts';
import { sleep, tempDir } from './env.ts';

const HOST = '127.0.0.1';

/** A free loopback port below 55535 (a Cluster node also listens on port + 10000). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, HOST, () => {
        const p = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(p));
      });
    });
    if (port < 55535) return port;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

/** Runs one command against host:port on a short-lived connection. */
export async function redisCommand(port: number, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

type Proc = { child: ChildProcess; port: number; args: string[]; log: string[] };

function startProcess(binary: string, args: string[], port: number): Proc {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (b: Buffer) => {
    log.push(b.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, port, args, log };
}

async function answers(proc: Proc, timeoutMs = 8000): Promise<void> {
  await until(`redis on ${proc.port}`, timeoutMs, async () => {
    if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode}: ${proc.log.join('').slice(-500)}`);
    return (await redisCommand(proc.port, 'PING')) === 'PONG' ? true : undefined;
  });
}

async function kill(proc: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill(signal);
  await exited;
}

export type RedisProcessGroup = { topology: RedisTopology; stop: () => Promise<void> };

/** One server with append-only persistence (fsync always), that the test may stop and start again on the same port and data. */
export async function startPersistentRedis(label = 'redis-aof'): Promise<RedisProcessGroup & { port: number; url: string; kill: () => Promise<void>; start: () => Promise<void> }> {
  const tmp = tempDir(label);
  const port = await freePort();
  const args = ['--port', String(port), '--bind', HOST, '--dir', tmp.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'];
  let proc: Proc | undefined;
  const start = async () => {
    proc = startProcess('redis-server', args, port);
    await answers(proc);
  };
  await start();
  const url = `redis://${HOST}:${port}/0`;
  return {
    port,
    url,
    topology: { kind: 'single', url, waitReplicas: 0 },
    kill: async () => {
      if (proc) await kill(proc);
    },
    start,
    stop: async () => {
      if (proc) await kill(proc);
      tmp.remove();
    },
  };
}

/** Three masters, no replicas, slots spread by redis-cli --cluster create. */
export async function startCluster(): Promise<RedisProcessGroup & { ports: number[] }> {
  const tmp = tempDir('redis-cluster');
  const procs: Proc[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => kill(p)));
    tmp.remove();
  };
  try {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      const dir = path.join(tmp.dir, String(port));
      mkdirSync(dir);
      procs.push(
        startProcess('redis-server', ['--port', String(port), '--bind', HOST, '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], port),
      );
    }
    await Promise.all(procs.map((p) => answers(p)));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 15_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      await until(`cluster state ok on ${port}`, 10_000, async () => (/cluster_state:ok/.test(String(await redisCommand(port, 'CLUSTER', 'INFO'))) ? true : undefined));
    }
    return { ports, topology: { kind: 'cluster', nodes: ports.map((port) => ({ host: HOST, port })), auth: {}, tls: false, waitReplicas: 0 }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export const SENTINEL_NAME = 'selfie-test';

/** A master, one replica of it, and two sentinels watching them (quorum 1, quick failure detection). */
export async function startSentinel(): Promise<RedisProcessGroup & { masterPort: () => Promise<number>; failover: () => Promise<number>; healed: () => Promise<void>; sentinelPorts: number[] }> {
  const tmp = tempDir('redis-sentinel');
  const procs: Proc[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => kill(p)));
    tmp.remove();
  };
  try {
    const [masterPort, replicaPort, s1, s2] = [await freePort(), await freePort(), await freePort(), await freePort()] as [number, number, number, number];
    const server = (port: number, extra: string[]) => {
      const dir = path.join(tmp.dir, String(port));
      mkdirSync(dir);
      return startProcess('redis-server', ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra], port);
    };
    procs.push(server(masterPort, []));
    procs.push(server(replicaPort, ['--replicaof', HOST, String(masterPort)]));
    await Promise.all(procs.map((p) => answers(p)));
    await until('replica in sync', 8000, async () => (/master_link_status:up/.test(String(await redisCommand(replicaPort, 'INFO', 'replication'))) ? true : undefined));
    const sentinelPorts = [s1, s2];
    for (const port of sentinelPorts) {
      // Sentinel rewrites its config file, so each gets its own in the temp dir.
      const file = path.join(tmp.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${tmp.dir}`,
          `sentinel monitor ${SENTINEL_NAME} ${HOST} ${masterPort} 1`,
          `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
          `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
          '',
        ].join('\n'),
      );
      procs.push(startProcess('redis-sentinel', [file], port));
    }
    await Promise.all(procs.slice(2).map((p) => answers(p)));
    // A failover needs the sentinels to know the replica (they learn it from the master's INFO).
    for (const port of sentinelPorts) {
      await until(`sentinel ${port} knows the replica`, 8000, async () => {
        const replicas = (await redisCommand(port, 'SENTINEL', 'REPLICAS', SENTINEL_NAME)) as string[][];
        return replicas.some((r) => r.includes(String(replicaPort))) ? true : undefined;
      });
    }
    const masterPortNow = async () => Number(((await redisCommand(s1, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME)) as string[])[1]);
    return {
      sentinelPorts,
      topology: { kind: 'sentinel', sentinels: sentinelPorts.map((port) => ({ host: HOST, port })), name: SENTINEL_NAME, auth: {}, sentinelAuth: {}, tls: false, waitReplicas: 1 },
      masterPort: masterPortNow,
      /** SENTINEL FAILOVER; resolves with the new master's port once it answers as master. */
      failover: async () => {
        const before = await masterPortNow();
        await redisCommand(s1, 'SENTINEL', 'FAILOVER', SENTINEL_NAME);
        const after = await until('failover', 15_000, async () => {
          const p = await masterPortNow();
          return p !== before ? p : undefined;
        });
        await until('new master answers as master', 10_000, async () => (/role:master/.test(String(await redisCommand(after, 'INFO', 'replication'))) ? true : undefined));
        return after;
      },
      /** Until the new master has its replica back (the old master, resynced): writes are confirmed again. */
      healed: async () => {
        const master = await masterPortNow();
        await until('a replica online again', 30_000, async () => (/slave0:.*state=online/.test(String(await redisCommand(master, 'INFO', 'replication'))) ? true : undefined));
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
