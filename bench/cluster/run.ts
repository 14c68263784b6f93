// Scale-out benchmark: sign-ins per second and p50/p99 for 1 and 2 instances (`selfie-idp serve`
// child processes, IdP + embedded verifier each) on one Redis, behind haproxy round-robin on every
// request (test/helpers/cluster.ts), driven by the login bench's browsers without a browser
// (bench/login/driver.ts) at 8 and 32 at once. Where the time goes, per phase: CPU seconds of each
// instance, of Redis and of haproxy (/proc/<pid>/stat), Redis commands (INFO commandstats), and the
// instances' event-loop delay (their Prometheus metrics; the face engine runs in worker threads).
//
// Redis is a private redis-server in a temporary directory, so its figures are this bench's own.
// Loopback only; bounded: a few rounds, and the whole run stops after --max-minutes.
//
// Run: PATH=node_modules/.bin:$PATH node bench/cluster/run.ts [--instances 1,2] [--concurrency 8,32]
//        [--rounds 2] [--face-only] [--max-minutes 20]
// Without --face-only: the default workflows (PASSIVE liveness with screen light); sign-ins whose
// light pattern was asked for more than ~20 s before the upload are refused (CHALLENGE_TIMEOUT), so
// that mode keeps to 8 at once (the 8 bursts are rendered one after the other before the uploads).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { openStore } from '../../src/store/index.ts';
import { enrolFromImages, lazyFaceEngine, parseTemplateKeys } from '../../src/verifier/index.ts';
import { startCluster } from '../../test/helpers/cluster.ts';
import type { Cluster } from '../../test/helpers/cluster.ts';
import { tempDir } from '../../test/helpers/env.ts';
import { freePort } from '../../test/helpers/server.ts';
import { liveBurst, type LiveBurst } from '../bursts.ts';
import { BENCH_CLIENT, BENCH_SETTINGS, FACE_ONLY_WORKFLOWS, LoginDriver, PEOPLE, pct, type Signer } from '../login/driver.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,2' },
    concurrency: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    'face-only': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '20' },
  },
});
const faceOnly = values['face-only'];
const instanceCounts = values.instances.split(',').map(Number);
const concurrencies = (values.concurrency ?? (faceOnly ? '8,32' : '8')).split(',').map(Number);
const rounds = Number(values.rounds);
const ACCOUNTS_PER_FACE = Math.ceil(Math.max(...concurrencies) / PEOPLE.length);

const tmp = tempDir('bench-cluster');
let cluster: Cluster | undefined;
const redisPort = await freePort();
const redisServer = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp.dir], { stdio: 'ignore' });
const cleanup = async () => {
  await cluster?.close();
  redisServer.kill('SIGTERM');
  tmp.remove();
};
const watchdog = setTimeout(() => {
  console.error(`bench: stopped after --max-minutes ${values['max-minutes']}`);
  void cleanup().finally(() => process.exit(1));
}, Number(values['max-minutes']) * 60_000);
watchdog.unref();

async function connectRedis(): Promise<Redis> {
  for (let i = 0; ; i++) {
    const client = new Redis({ port: redisPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (err) {
      client.disconnect();
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
const redis = await connectRedis();
const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))![1]);

// ---- what each process used -------------------------------------------------------------------
const TICKS = 100; // USER_HZ on Linux
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
  } catch {
    return 0;
  }
}

async function redisCommands(): Promise<Map<string, { calls: number; usec: number }>> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Event-loop delay of an instance since its previous scrape (prom-client resets it at each scrape). */
async function loopDelay(metricsPort: number): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^selfie_idp_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('p99'), max: read('max') };
}

type Snapshot = { at: number; cpu: Record<string, number>; commands: Map<string, { calls: number; usec: number }> };
async function snapshot(c: Cluster): Promise<Snapshot> {
  const cpu: Record<string, number> = { redis: cpuSeconds(redisPid), haproxy: cpuSeconds(c.haproxyPid), bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 };
  for (const i of c.instances) cpu[i.name] = cpuSeconds(i.pid);
  return { at: performance.now(), cpu, commands: await redisCommands() };
}

function describeUse(before: Snapshot, after: Snapshot, timedSecs: number, signIns: number): string {
  const cpu = Object.keys(after.cpu)
    .map((k) => `${k} ${(after.cpu[k]! - before.cpu[k]!).toFixed(1)} s`)
    .join(', ');
  let calls = 0;
  let usec = 0;
  const per: [string, number][] = [];
  for (const [cmd, a] of after.commands) {
    const b = before.commands.get(cmd) ?? { calls: 0, usec: 0 };
    calls += a.calls - b.calls;
    usec += a.usec - b.usec;
    per.push([cmd, a.calls - b.calls]);
  }
  per.sort((x, y) => y[1] - x[1]);
  const wall = (after.at - before.at) / 1000;
  return [
    `    CPU over ${wall.toFixed(1)} s of wall time (${timedSecs.toFixed(1)} s timed): ${cpu}`,
    `    Redis: ${calls} commands (${(calls / signIns).toFixed(0)} per sign-in), ${(usec / 1e6).toFixed(2)} s inside Redis; most: ${per.slice(0, 5).map(([c, n]) => `${c} ${n}`).join(', ')}`,
  ].join('\n');
}

// ---- the people: ACCOUNTS_PER_FACE accounts per face, so no two sign-ins at once share an account
const face = lazyFaceEngine({ poolSize: 1 });
const selfies = new Map<string, LiveBurst>();
for (const name of PEOPLE) selfies.set(name, await liveBurst(face, name, { screenLight: !faceOnly }));
const signers: Signer[] = [];
for (let k = 0; k < ACCOUNTS_PER_FACE; k++) for (const name of PEOPLE) signers.push({ face: name, email: `${name}.${k}@example.com` });

console.log(`cluster bench: ${os.availableParallelism()} cores (${os.loadavg()[0]!.toFixed(1)} load average at start: the machine is shared), haproxy round-robin, one private redis-server; ${faceOnly ? 'face-only workflow (FACE_MATCH, one JPEG)' : 'default workflow (PASSIVE liveness, screen light)'}; ${rounds} rounds per figure`);
try {
  for (const count of instanceCounts) {
    await redis.flushall(); // the private server: each cluster starts from an empty store
    cluster = await startCluster({
      label: 'bench-cluster',
      instances: count,
      clients: [BENCH_CLIENT],
      config: BENCH_SETTINGS,
      ...(faceOnly ? { workflows: FACE_ONLY_WORKFLOWS } : {}),
      redisUrl: `redis://127.0.0.1:${redisPort}/0`,
      // The face pool of a real deployment (one worker per core), not the tests' single worker.
      env: { LOG_LEVEL: 'warn', VERIFIER_FACE_POOL_SIZE: '' },
    });
    const config = loadConfig({ ...cluster.env, DATA_DIR: cluster.dataDir });
    const store = await openStore(config);
    const accounts = new Accounts(store);
    const keyring = parseTemplateKeys(cluster.env.VERIFIER_TEMPLATE_KEYS!);
    for (const s of signers) {
      const { account } = await accounts.create({ email: s.email, name: s.face });
      await enrolFromImages({ store, face, templateKeyring: keyring }, account.id, [selfies.get(s.face)!.still]);
      await accounts.markEnrolled(account.id);
    }
    await store.close();
    const driver = await LoginDriver.connect(cluster.issuer, selfies, faceOnly);
    // Warm-up: each instance's face engine and connections.
    await driver.signInTogether(signers.slice(0, 2 * count));

    for (const concurrency of concurrencies) {
      const times: number[] = [];
      await Promise.all(cluster.instances.map((i) => loopDelay(i.ports.metrics)));
      const before = await snapshot(cluster);
      const rendering0 = driver.renderingMs;
      for (let r = 0; r < rounds; r++) times.push(...(await driver.signInTogether(signers.slice(0, concurrency))));
      const after = await snapshot(cluster);
      const delays = await Promise.all(cluster.instances.map((i) => loopDelay(i.ports.metrics)));
      const secs = (after.at - before.at - (driver.renderingMs - rendering0)) / 1000;
      console.log(
        `${count} instance${count > 1 ? 's' : ''}, ${concurrency} at once: ${times.length} sign-ins, p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms, ${(times.length / secs).toFixed(2)} sign-ins/s`,
      );
      console.log(describeUse(before, after, secs, times.length));
      console.log(`    event-loop delay (main thread): ${cluster.instances.map((i, n) => `${i.name} p99 ${delays[n]!.p99.toFixed(0)} ms, max ${delays[n]!.max.toFixed(0)} ms`).join('; ')}`);
    }
    driver.close();
    await cluster.close();
    cluster = undefined;
  }
} finally {
  await face.close();
  redis.disconnect();
  await cleanup();
}
