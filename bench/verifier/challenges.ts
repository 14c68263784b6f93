// What a FLASHING or ACTIVE_3D sign-in costs the embedded verifier: from the upload of the still +
// recording to the verdict in the upload's answer (face engine on the recording, the challenge
// checks, the signals in a liveness worker). Each session asks for its challenge as the page does,
// a synthetic genuine answer is rendered for it (not timed), and uploaded once the sequence could
// have been shown. Sessions run one after the other (the user's wait), then two at once.
//
// Run by hand: PATH=node_modules/.bin:$PATH node bench/verifier/challenges.ts [sessions-per-method=6]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createLogger } from '../../src/logger.ts';
import { encodeJpeg } from '../../src/liveness/image.ts';
import { challengeDurationMs, type Active3dChallenge, type Challenge, type FlashingChallenge, type Frame } from '../../src/liveness/index.ts';
import { generateActiveFrames } from '../../test/synthetic/active.ts';
import { generateFlashingSample } from '../../test/synthetic/flashing.ts';
import { loadFaceSources } from '../../test/synthetic/head.ts';
import { loadVerifierConfig } from '../../src/verifier/config.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { startVerifier } from '../../src/verifier/server.ts';
import { freePort } from '../../test/helpers/server.ts';

const perMethod = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 6);
const KEY = 'bench-api-key-0123456789abcdef';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-challenges-'));
const workflowsFile = path.join(dataDir, 'workflows.json');
const liveness = (method: string) => ({ method, review_threshold: 50, decline_threshold: 30 });
writeFileSync(workflowsFile, JSON.stringify({ workflows: [
  { workflow_id: 'flashing', workflow_type: 'biometric_authentication', features: ['LIVENESS', 'IP_ANALYSIS'], liveness: liveness('FLASHING') },
  { workflow_id: 'active-3d', workflow_type: 'biometric_authentication', features: ['LIVENESS', 'IP_ANALYSIS'], liveness: liveness('ACTIVE_3D') },
  { workflow_id: 'kyc', workflow_type: 'kyc', features: ['IP_ANALYSIS'] },
] }));
const port = await freePort();
const config = loadVerifierConfig({
  ...process.env,
  VERIFIER_PORT: String(port),
  VERIFIER_HOST: '127.0.0.1',
  VERIFIER_PUBLIC_URL: `http://127.0.0.1:${port}`,
  VERIFIER_API_KEYS: KEY,
  VERIFIER_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
  VERIFIER_WORKFLOWS_FILE: workflowsFile,
  VERIFIER_RATE_LIMITS: 'create=100000,read=100000,write=100000',
  DATA_DIR: dataDir,
});
const face = lazyFaceEngine(config.facePoolSize ? { poolSize: config.facePoolSize } : {});
await face.warm();
const verifier = await startVerifier(config, createLogger('warn'), { face });
const faces = await loadFaceSources();

type Prepared = { method: string; form: FormData; url: string; token: string; readyAt: number; sessionId: string };

async function prepare(workflowId: 'flashing' | 'active-3d', seed: number): Promise<Prepared> {
  const s = await fetch(`${verifier.url}/v3/session/`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ workflow_id: workflowId, vendor_data: `bench-${seed}` }) }).then((r) => r.json() as Promise<{ url: string; session_id: string }>);
  const html = await (await fetch(s.url)).text();
  const cfg = JSON.parse(/id="capture-config">([\s\S]*?)<\/script>/.exec(html)![1]!) as { uploadUrl: string; uploadToken: string; challengeUrl: string };
  const { challenge } = (await fetch(verifier.url + cfg.challengeUrl, { method: 'POST', headers: { 'x-upload-token': cfg.uploadToken } }).then((r) => r.json())) as { challenge: Challenge };
  const issued = Date.now(); // the page starts the sequence when the challenge arrives
  // The page records 640×480 for ACTIVE_3D and 320×240 for FLASHING.
  const frames: Frame[] = challenge.method === 'FLASHING'
    ? (await generateFlashingSample('bona_fide', seed, faces, challenge as FlashingChallenge)).frames
    : (await generateActiveFrames('bona_fide', seed, faces, challenge as Active3dChallenge)).frames;
  const form = new FormData();
  const jpeg = async (f: Frame, q: number) => new Blob([new Uint8Array(await encodeJpeg(f.image, q))], { type: 'image/jpeg' });
  // the page's still: 640 px wide, drawn from the camera at the end of the lead-in
  const lead = frames[Math.max(0, frames.findIndex((f) => f.t > 300))]!.image;
  const still = await sharp(lead.data, { raw: { width: lead.width, height: lead.height, channels: 3 } }).resize(640).jpeg({ quality: 90 }).toBuffer();
  form.append('still', new Blob([new Uint8Array(still)], { type: 'image/jpeg' }), 'still.jpg');
  for (const f of frames) form.append('frame', await jpeg(f, 85), 'frame.jpg');
  form.append('times', JSON.stringify(frames.map((f) => Math.round(f.t))));
  form.append('challenge_id', challenge.id);
  return { method: challenge.method, form, url: verifier.url + cfg.uploadUrl, token: cfg.uploadToken, readyAt: issued + challengeDurationMs(challenge), sessionId: s.session_id };
}

async function upload(p: Prepared): Promise<{ ms: number; status: string }> {
  const wait = p.readyAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t0 = performance.now();
  const body = (await fetch(p.url, { method: 'POST', headers: { 'x-upload-token': p.token }, body: p.form }).then((r) => r.json())) as { status: string };
  const ms = performance.now() - t0;
  if (body.status !== 'Approved') {
    // say why a genuine answer was not accepted
    const d = (await fetch(`${verifier.url}/v3/session/${p.sessionId}/decision/`, { headers: { 'x-api-key': KEY } }).then((r) => r.json())) as { liveness_checks: { score: number; warnings: { risk: string }[] }[] };
    const l = d.liveness_checks[0]!;
    console.log(`  ${p.method} session ${p.sessionId}: ${body.status}, score ${l.score}, ${l.warnings.map((w) => w.risk).join(', ')}`);
  }
  return { ms, status: body.status };
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((q / 100) * xs.length) - 1)]!;

console.log(`challenge bench: ${perMethod} sessions per method and level, face pool ${config.facePoolSize ?? os.availableParallelism()} workers, ${os.cpus().length} CPUs`);
console.log('method     concurrent | upload → verdict p50 ms | max ms | statuses');
let seed = 100;
for (const workflowId of ['flashing', 'active-3d'] as const) {
  // warm-up: the liveness workers start on first use
  await upload(await prepare(workflowId, seed++));
  for (const concurrent of [1, 2]) {
    const results: { ms: number; status: string }[] = [];
    for (let i = 0; i < perMethod; i += concurrent) {
      const batch = await Promise.all(Array.from({ length: Math.min(concurrent, perMethod - i) }, () => prepare(workflowId, seed++)));
      // ready together: the batch's uploads overlap
      const readyAt = Math.max(...batch.map((b) => b.readyAt));
      results.push(...(await Promise.all(batch.map((b) => upload({ ...b, readyAt })))));
    }
    const ms = results.map((r) => r.ms);
    const statuses = Object.entries(results.reduce<Record<string, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {})).map(([k, n]) => `${k} ${n}`).join(', ');
    console.log(`${workflowId.padEnd(10)} ${String(concurrent).padStart(10)} | ${String(Math.round(pct(ms, 50))).padStart(23)} | ${String(Math.round(Math.max(...ms))).padStart(6)} | ${statuses}`);
  }
}
await verifier.close();
await face.close();
rmSync(dataDir, { recursive: true, force: true });
