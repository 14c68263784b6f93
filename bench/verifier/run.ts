// End-to-end latency of the embedded verifier, as the IdP meets it: create a session → open the
// hosted page → (PASSIVE with screen light: ask for the light pattern) → upload a capture → the
// signed webhook with the verdict arrives at a local receiver. The shipped sign-in workflow
// (LIVENESS + FACE_MATCH + IP_ANALYSIS) against an enrolled template, the real face engine, real
// HTTP. p50/p99 at 1, 4 and 8 concurrent sessions.
//
// With screen light each session's burst must be rendered for the pattern its page load was issued
// (≈ 1 s of CPU, the user's own time, in a child process: bench/bursts.ts ApartRenderer, so that
// neither its CPU nor its garbage falls on the measured process): sessions go in batches of the concurrency
// level, each batch's sessions created, opened, issued their pattern and rendered one after the other
// (not under load), then their uploads sent at once. `total` adds the phases (create + page +
// challenge + upload + webhook); sessions/s counts the upload phase's wall time only.
//
// Run by hand: PATH=node_modules/.bin:$PATH node bench/verifier/run.ts [sessions-per-level=40] [--face-only]
//   REDIS_URL=redis://127.0.0.1:6379 to use Redis (default: the embedded sqlite store).
//   --face-only: a sign-in workflow without LIVENESS (FACE_MATCH + IP_ANALYSIS) and a single JPEG
//   upload, to separate the verifier's own cost from presentation-attack detection's.
//   --no-liveness-signals: the shipped workflow and the same uploads, but the liveness workers only
//   decode the still and the burst and judge nothing (bench/verifier/decode-only-worker.ts): the
//   floor that every liveness signal adds to (docs/liveness.md, "Cost", "Third pass").
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyWebhook } from '../../src/didit/index.ts';
import { createLogger } from '../../src/logger.ts';
import { loadVerifierConfig } from '../../src/verifier/config.ts';
import { enrolFromImages } from '../../src/verifier/templates.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { startVerifier } from '../../src/verifier/server.ts';
import type { ScreenLightChallenge } from '../../src/liveness/index.ts';
import { usesScreenLight } from '../../src/verifier/workflows.ts';
import { ApartRenderer, burstForm, liveBurst, type BurstUpload, type LiveBurst } from '../bursts.ts';
import { THREAD_GROUPS, threadCpu, type ThreadGroup } from '../thread-cpu.ts';
import { LivenessPool } from '../../src/liveness/pool.ts';
import { replaceLivenessPool } from '../../src/verifier/steps/liveness/workers.ts';

const faceOnly = process.argv.includes('--face-only');
const noSignals = process.argv.includes('--no-liveness-signals');
const perLevel = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 40);
const levels = [1, 4, 8];
const root = path.resolve(import.meta.dirname, '..', '..');
const KEY = 'bench-api-key-0123456789abcdef';
const SECRET = 'bench-webhook-secret-0123456789';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

// ---- a receiver that verifies every delivery and wakes whoever waits for that session's verdict ----
const waiting = new Map<string, (at: number) => void>();
let badSignatures = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.now();
    const result = verifyWebhook(Buffer.concat(chunks), req.headers, SECRET);
    res.statusCode = result.ok ? 200 : 401;
    res.end();
    if (!result.ok) return void badSignatures++;
    if (result.payload.status !== 'In Progress') waiting.get(result.payload.session_id)?.(at);
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/didit`;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-verifier-'));
const port = await freePort();
const config = loadVerifierConfig({
  ...process.env,
  VERIFIER_PORT: String(port),
  VERIFIER_HOST: '127.0.0.1',
  VERIFIER_PUBLIC_URL: `http://127.0.0.1:${port}`,
  VERIFIER_API_KEYS: KEY,
  VERIFIER_WEBHOOK_SECRET: SECRET,
  VERIFIER_WEBHOOK_URL: receiverUrl,
  VERIFIER_RATE_LIMITS: 'create=100000,read=100000,write=100000',
  REDIS_KEY_PREFIX: `bench-verifier-${Date.now()}:`,
  DATA_DIR: dataDir,
  ...(faceOnly ? { VERIFIER_WORKFLOWS_FILE: faceOnlyWorkflows() } : {}),
});

function faceOnlyWorkflows(): string {
  const file = path.join(dataDir, 'workflows.json');
  writeFileSync(file, JSON.stringify({ workflows: [
    { workflow_id: 'bench-face-only', workflow_type: 'biometric_authentication', features: ['FACE_MATCH', 'IP_ANALYSIS'], face_match: { review_threshold: 72, decline_threshold: 62 } },
    { workflow_id: 'bench-kyc', workflow_type: 'kyc', features: ['IP_ANALYSIS'] },
  ] }));
  return file;
}
const face = lazyFaceEngine(config.facePoolSize ? { poolSize: config.facePoolSize } : {});
await face.warm();
if (noSignals) replaceLivenessPool(new LivenessPool({ workerUrl: new URL('./decode-only-worker.ts', import.meta.url) }));
const verifier = await startVerifier(config, createLogger('warn'), { face });
const workflowId = verifier.workflowIds.reauth!;
const screenLight = usesScreenLight(verifier.deps.workflows.get(workflowId)!);
const users = ['amy', 'bernadette', 'leonard', 'sheldon'];
// The sign-in workflow has PASSIVE liveness: each user uploads a synthetic bona fide still + burst.
// They are enrolled from that still (this measures latency; face-match accuracy is docs/face-engine.md).
const captures = new Map<string, LiveBurst>();
for (const u of users) {
  captures.set(u, await liveBurst(face, u, { screenLight }));
  await enrolFromImages({ store: verifier.deps.store, face, templateKeyring: config.templateKeyring }, `bench-${u}`, [captures.get(u)!.still]);
}

const renderer = new ApartRenderer();

type Sample = { total: number; create: number; open: number; challenge: number; upload: number; webhook: number; status: string };
type Prepared = { sessionId: string; uploadUrl: string; uploadToken: string; capture: BurstUpload; create: number; open: number; challenge: number };

/** Create → open the page → (screen light) the challenge, timed; then the burst rendered for it, not timed. */
async function prepare(i: number): Promise<Prepared> {
  const user = users[i % users.length]!;
  // One vendor_data per session (an unfinished session of the same vendor would be handed back),
  // each enrolled with the user's template; done before the clock starts.
  const vendor = `bench-${user}-${i}`;
  await verifier.deps.store.set(`verifier:template:${vendor}`, (await verifier.deps.store.get(`verifier:template:bench-${user}`))!);
  const t0 = performance.now();
  const created = await fetch(`${verifier.url}/v3/session/`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ workflow_id: workflowId, vendor_data: vendor, callback: 'https://rp.example/cb' }),
  }).then((r) => r.json() as Promise<{ session_id: string; url: string }>);
  const t1 = performance.now();
  const html = await (await fetch(created.url)).text();
  const cfg = JSON.parse(/id="capture-config">([\s\S]*?)<\/script>/.exec(html)![1]!) as { uploadUrl: string; uploadToken: string; challengeUrl: string; screenLight: boolean };
  const t2 = performance.now();
  let capture: BurstUpload = captures.get(user)!;
  let t3 = t2;
  if (cfg.screenLight && !faceOnly) {
    const res = await fetch(verifier.url + cfg.challengeUrl, { method: 'POST', headers: { 'x-upload-token': cfg.uploadToken } });
    const { challenge } = (await res.json()) as { challenge: ScreenLightChallenge };
    t3 = performance.now();
    capture = await renderer.answer(user, captures.get(user)!.seed, challenge);
  }
  return { sessionId: created.session_id, uploadUrl: cfg.uploadUrl, uploadToken: cfg.uploadToken, capture, create: t1 - t0, open: t2 - t1, challenge: t3 - t2 };
}

/** The upload → its answer → the webhook, timed. */
async function upload(p: Prepared): Promise<Sample> {
  const verdict = new Promise<number>((resolve) => waiting.set(p.sessionId, resolve));
  const t3 = performance.now();
  const answer = await fetch(verifier.url + p.uploadUrl, {
    method: 'POST',
    headers: { 'x-upload-token': p.uploadToken, ...(faceOnly ? { 'content-type': 'image/jpeg' } : {}) },
    body: faceOnly ? new Uint8Array(p.capture.still) : burstForm(p.capture),
  }).then((r) => r.json() as Promise<{ status: string }>);
  const t4 = performance.now();
  const t5 = await verdict;
  waiting.delete(p.sessionId);
  const webhook = Math.max(0, t5 - t4);
  return { total: p.create + p.open + p.challenge + (t4 - t3) + webhook, create: p.create, open: p.open, challenge: p.challenge, upload: t4 - t3, webhook, status: answer.status };
}

/** `count` sessions, `concurrency` uploads at a time; returns the samples and the upload phases' wall time (s). */
async function level(concurrency: number, count: number, first: number): Promise<{ samples: Sample[]; seconds: number; cpuMs: number; byThread: Record<ThreadGroup, number> }> {
  const samples: Sample[] = [];
  let seconds = 0, cpuMs = 0;
  const byThread = Object.fromEntries(THREAD_GROUPS.map((g) => [g, 0])) as Record<ThreadGroup, number>;
  for (let done = 0; done < count; ) {
    const batch: Prepared[] = [];
    for (let k = 0; k < Math.min(concurrency, count - done); k++) batch.push(await prepare(first + done + k));
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const threads = threadCpu();
    samples.push(...(await Promise.all(batch.map(upload))));
    const cpu = process.cpuUsage(cpu0);
    for (const [g, ms] of Object.entries(threads())) byThread[g as ThreadGroup] += ms;
    cpuMs += (cpu.user + cpu.system) / 1000;
    seconds += (performance.now() - started) / 1000;
    done += batch.length;
  }
  return { samples, seconds, cpuMs, byThread };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const ms = (x: number) => `${Math.round(x)}`.padStart(5);

const what = faceOnly ? 'face-only workflow, single JPEG' : `shipped sign-in workflow with PASSIVE liveness, still + burst${screenLight ? ' under screen light' : ''}${noSignals ? ', NO LIVENESS SIGNALS (decode only: the floor)' : ''}`;
console.log(`verifier e2e bench (${what}): ${perLevel} sessions per level, store ${verifier.deps.store.description}, face pool ${config.facePoolSize ?? os.availableParallelism()} workers, ${os.cpus().length} CPUs (${os.cpus()[0]?.model})`);
// cpu/session: CPU time of this whole process (every thread: HTTP, face and liveness workers, libvips,
// onnxruntime; and this harness's uploads) over the upload phases, per session. It does not grow with
// the machine's load the way latency does.
console.log(`load average ${os.loadavg()[0]!.toFixed(1)} at start`);
console.log('concurrency | p50 ms | p99 ms | max ms | create p50 | page p50 | challenge p50 | upload p50 | webhook p50 | sessions/s | cpu/session ms | statuses');
// Warm-up (JIT, connection pools), not counted.
await level(4, 4, 1000);
let next = 0;
const threadRows: string[] = [];
for (const c of levels) {
  const { samples, seconds, cpuMs, byThread } = await level(c, perLevel, next);
  threadRows.push(`${String(c).padStart(11)} | ${THREAD_GROUPS.map((g) => (byThread[g] / samples.length).toFixed(0).padStart(g.length)).join(' | ')}`);
  next += perLevel;
  const totals = samples.map((s) => s.total);
  const statuses = Object.entries(samples.reduce<Record<string, number>>((a, s) => ((a[s.status] = (a[s.status] ?? 0) + 1), a), {})).map(([k, n]) => `${k}×${n}`).join(' ');
  console.log(
    `${String(c).padStart(11)} | ${ms(pct(totals, 50))}  | ${ms(pct(totals, 99))}  | ${ms(Math.max(...totals))}  | ${ms(pct(samples.map((s) => s.create), 50))}      | ${ms(pct(samples.map((s) => s.open), 50))}    | ${ms(pct(samples.map((s) => s.challenge), 50))}         | ${ms(pct(samples.map((s) => s.upload), 50))}      | ${ms(pct(samples.map((s) => s.webhook), 50))}       | ${(samples.length / seconds).toFixed(1).padStart(10)} | ${(cpuMs / samples.length).toFixed(0).padStart(14)} | ${statuses}`,
  );
}
// The same upload phases' CPU by thread group (bench/thread-cpu.ts; 10 ms ticks): the event loop
// includes this harness's own uploads and webhook receiver.
console.log(`cpu/session ms by thread\nconcurrency | ${THREAD_GROUPS.join(' | ')}\n${threadRows.join('\n')}`);
console.log(`load average ${os.loadavg()[0]!.toFixed(1)} at end`);
if (badSignatures) console.log(`!! ${badSignatures} deliveries failed signature verification`);

renderer.close();
await verifier.close();
await face.close();
receiver.close();
rmSync(dataDir, { recursive: true, force: true });
