// Full authorization-code sign-in without a browser, timed from the relying party's point of view
// (the driver and what is timed: bench/login/driver.ts), against one `selfie-idp serve` stack in
// this process. Several instances behind a balancer: bench/cluster/run.ts.
//
// Run: PATH=node_modules/.bin:$PATH node bench/login/run.ts [--redis] [--rounds N] [--face-only] [--cpu] [--profile DIR]
// --cpu: CPU per sign-in by thread group (bench/thread-cpu.ts; the bursts are rendered in a child process);
// --profile DIR: a sampling profile of the main thread over each timed part, summarised by component.
// Uses the default workflows (config/workflows.json), the embedded verifier and the real face engine.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startStack } from '../../src/run.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { enrolFromImages, lazyFaceEngine, loadVerifierConfig } from '../../src/verifier/index.ts';
import { TEST_KEYS_ENCRYPTION_KEY, TEST_REDIS_URL, tempDir, uniquePrefix } from '../../test/helpers/env.ts';
import { freePort } from '../../test/helpers/server.ts';
import { liveBurst, type LiveBurst } from '../bursts.ts';
import { BENCH_CLIENT, FACE_ONLY_WORKFLOWS, LoginDriver, PEOPLE, benchConfig, pct } from './driver.ts';
import { MainProfile, summarise } from './profile.ts';
import { threadCpu } from '../thread-cpu.ts';
import { LivenessPool } from '../../src/liveness/pool.ts';
import { replaceLivenessPool } from '../../src/verifier/steps/liveness/workers.ts';

// --face-only: sign-in without LIVENESS (FACE_MATCH + IP_ANALYSIS, one JPEG), to separate the
// flow's own cost from presentation-attack detection's.
// --no-liveness-signals: the default workflow and the same uploads, but the liveness workers only
// decode the still and the burst and judge nothing (bench/verifier/decode-only-worker.ts): the
// floor every liveness signal adds to (docs/liveness.md, "Cost", "Third pass").
const { values } = parseArgs({ options: { redis: { type: 'boolean', default: false }, rounds: { type: 'string', default: '5' }, 'face-only': { type: 'boolean', default: false }, 'no-liveness-signals': { type: 'boolean', default: false }, cpu: { type: 'boolean', default: false }, profile: { type: 'string' } } });
const faceOnly = values['face-only'];
const noSignals = values['no-liveness-signals'];
if (noSignals) replaceLivenessPool(new LivenessPool({ workerUrl: new URL('../verifier/decode-only-worker.ts', import.meta.url) }));
const rounds = Number(values.rounds);
const tmp = tempDir('bench-login');
const CLIENT = BENCH_CLIENT;

const [port, verifierPort] = [await freePort(), await freePort()];
writeFileSync(path.join(tmp.dir, 'clients.json'), JSON.stringify([CLIENT]));
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PORT: String(port),
  HOST: '127.0.0.1',
  ISSUER: `http://127.0.0.1:${port}`,
  DATA_DIR: tmp.dir,
  CLIENTS_FILE: path.join(tmp.dir, 'clients.json'),
  VERIFIER_PORT: String(verifierPort),
  VERIFIER_HOST: '127.0.0.1',
  VERIFIER_PUBLIC_URL: `http://127.0.0.1:${verifierPort}`,
  DEMO_RP_PORT: '0',
  METRICS_PORT: '0',
  // Every sign-in here comes from one address: the per-IP lookup limit would stop the bench.
  CONFIG_FILE: path.join(tmp.dir, 'config.json'),
  LOG_LEVEL: 'warn',
  ...(values.redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('bench-login'), KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY } : {}),
  ...(faceOnly ? { VERIFIER_WORKFLOWS_FILE: path.join(tmp.dir, 'workflows.json') } : {}),
};
const defaults = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8'));
writeFileSync(path.join(tmp.dir, 'config.json'), JSON.stringify(benchConfig(defaults)));
writeFileSync(path.join(tmp.dir, 'workflows.json'), JSON.stringify(FACE_ONLY_WORKFLOWS));
const config = loadConfig(env);
const stack = await startStack(config, env, createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })));
const issuer = config.issuer;

// Enrol the eight people (enrolFromImages, as the operator CLI does).
const accounts = new Accounts(stack.idp.store);
const face = lazyFaceEngine({ poolSize: 1 });
const keyring = loadVerifierConfig(env).templateKeyring;
// The default sign-in workflow has PASSIVE liveness: each person uploads a synthetic bona fide
// still + burst (bench/bursts.ts), and is enrolled from that still (this measures latency).
const selfies = new Map<string, LiveBurst>();
for (const name of PEOPLE) {
  selfies.set(name, await liveBurst(face, name, { screenLight: !faceOnly }));
  const { account } = await accounts.create({ email: `${name}@example.com`, name });
  await enrolFromImages({ store: stack.idp.store, face, templateKeyring: keyring }, account.id, [selfies.get(name)!.still]);
  await accounts.markEnrolled(account.id);
}
await face.close();
const driver = await LoginDriver.connect(issuer, selfies, faceOnly);
const who = (name: string) => ({ face: name, email: `${name}@example.com` });

await driver.signIn(who('amy')); // warm-up
for (const concurrency of [1, 8]) {
  const times: number[] = [];
  const t0 = performance.now();
  const rendering0 = driver.renderingMs;
  const profile = values.profile ? new MainProfile() : undefined;
  await profile?.start();
  const cpuSince = threadCpu();
  for (let r = 0; r < rounds; r++) {
    times.push(...(await driver.signInTogether(PEOPLE.slice(0, concurrency).map(who))));
    if (concurrency === 1) for (const n of PEOPLE.slice(1)) times.push(await driver.signIn(who(n)));
  }
  const secs = (performance.now() - t0 - (driver.renderingMs - rendering0)) / 1000;
  // The bursts are rendered in a child process (bench/bursts.ts ApartRenderer): nothing to subtract.
  const cpu = Object.entries(cpuSince());
  const prof = await profile?.stop(path.join(values.profile!, `main-c${concurrency}${faceOnly ? '-face-only' : ''}.cpuprofile`));
  console.log(`${concurrency} concurrent: ${times.length} sign-ins, p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms, ${(times.length / secs).toFixed(1)} sign-ins/s (store: ${values.redis ? 'redis' : 'embedded'}; ${faceOnly ? 'face-only workflow' : 'default workflow with PASSIVE liveness, screen light'}${noSignals ? ', NO LIVENESS SIGNALS (decode only: the floor)' : ''})`);
  if (values.cpu) {
    console.log(`  CPU per sign-in: ${(cpu.reduce((n, [, v]) => n + v, 0) / times.length).toFixed(1)} ms (this process; the burst rendering is in a child process)`);
    for (const [k, v] of cpu.sort((a, b) => b[1] - a[1])) if (v / times.length >= 0.5) console.log(`    ${(v / times.length).toFixed(1).padStart(7)} ms  ${k}`);
  }
  if (prof) {
    const s = summarise(prof);
    console.log(`  main thread, sampled: ${(s.totalMs / times.length).toFixed(1)} ms per sign-in; by component (ms per sign-in):`);
    for (const [k, v] of s.byComponent) if (v / times.length >= 0.3) console.log(`    ${(v / times.length).toFixed(1).padStart(7)}  ${k}`);
    console.log('  top functions by self time (ms per sign-in):');
    for (const [k, v] of s.byFunction) console.log(`    ${(v / times.length).toFixed(2).padStart(7)}  ${k}`);
  }
}
driver.close();
await stack.close();
tmp.remove();
