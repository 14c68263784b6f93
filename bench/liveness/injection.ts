/**
 * Injection through the real capture page (issue 12, item 1): real footage fed to Debian's Chromium
 * as its camera (--use-file-for-fake-video-capture), the hosted page driven as a person would (open,
 * wait for the camera, press "Take selfie"), judged by a real verifier (real store, real face engine)
 * running the SHIPPED workflows (config/workflows.json) with `liveness.virtual_camera: ignore`, so
 * that what is counted is the challenge, not the camera's name.
 *
 * Sources (real material, none of it a render):
 *  - every clip in ../shared/clips-real (live.mp4: a person without the page's light; replay-phone.mp4:
 *    a phone replay of them), converted once to y4m by Chromium itself (test/helpers/clips.ts; cached
 *    under data/clips-y4m);
 *  - faces from ../shared/faces as a still camera (one photo, the same frame over and over).
 * None can answer a challenge chosen after it was made: every Approved is a failure of the design.
 *
 * Sign-in sessions carry a reference portrait of the same person (a frame of the live clip; another
 * photo of the same face), so that face match passes and liveness alone decides.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/injection.ts [--sessions 210] [--parallel 2]
 *        [--workflows signin,kyc,flashing] [--json FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { launchWithCamera } from '../../test/helpers/chromium.ts';
import { clipY4m, realClips, stillFaceY4m, y4mFrameJpeg } from '../../test/helpers/clips.ts';
import { tempDir } from '../../test/helpers/env.ts';
import { api, portraitB64, startTestVerifier } from '../../test/helpers/verifier.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '210' },
    parallel: { type: 'string', default: '2' },
    workflows: { type: 'string', default: 'signin,kyc,flashing' },
    json: { type: 'string' },
    'timeout-min': { type: 'string', default: '35' },
    // only these sources (comma-separated, matched on the name's start: live, replay, still)
    sources: { type: 'string' },
  },
});
const TOTAL = Number(values.sessions), PARALLEL = Math.max(1, Math.min(4, Number(values.parallel)));
const DEADLINE = Date.now() + Number(values['timeout-min']) * 60_000;

// ---- the shipped workflows, with virtual_camera: ignore ----
const shipped = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../config/workflows.json'), 'utf8')) as { workflows: any[] };
for (const w of shipped.workflows) if (w.liveness) w.liveness.virtual_camera = 'ignore';
const byRole = {
  // the IdP's sign-in (first biometric_authentication) and enrolment (first kyc), FLASHING's sign-in
  signin: shipped.workflows.find((w) => w.workflow_type === 'biometric_authentication'),
  kyc: shipped.workflows.find((w) => w.workflow_type === 'kyc'),
  flashing: shipped.workflows.find((w) => w.liveness?.method === 'FLASHING'),
} as const;
type Role = keyof typeof byRole;
const roles = values.workflows!.split(',').filter((r): r is Role => r in byRole && !!byRole[r as Role]);
// sign-in (the default) gets most sessions; one in five each to enrolment and FLASHING
const ROLE_WEIGHT: Record<Role, number> = { signin: 3, kyc: 1, flashing: 1 };

const tmp = tempDir('injection-bench');
const wfFile = path.join(tmp.dir, 'workflows.shipped.json');
writeFileSync(wfFile, JSON.stringify(shipped));
const face = lazyFaceEngine({ poolSize: 1 });
await face.warm();
const v = await startTestVerifier({ face, env: { VERIFIER_WORKFLOWS_FILE: wfFile } });

// ---- sources ----
interface Source { name: string; camera: string; portrait: () => Promise<string> }
const clips = realClips();
if (!clips.length) throw new Error('no clips in ../shared/clips-real');
const sources: Source[] = [];
const liveRef = await y4mFrameJpeg(await clipY4m(clips.includes('live') ? 'live' : clips[0]!), 10);
for (const c of clips) {
  const file = await clipY4m(c);
  // the person's own reference: a frame of the live clip (the replay shows the same person)
  sources.push({ name: `${c}.mp4`, camera: file, portrait: async () => liveRef.toString('base64') });
}
const people = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'];
for (const p of people) {
  sources.push({ name: `still:${p}1`, camera: await stillFaceY4m(p, 1, tmp.dir), portrait: () => portraitB64(p, 2) });
}
// Sessions go round the sources (a round: each clip 3 times, each still face once), so that a run cut
// short by --timeout-min still covers every source.
const ROUND: Source[] = [...sources.filter((x) => !x.name.startsWith('still:')).flatMap((x) => [x, x, x]), ...sources.filter((x) => x.name.startsWith('still:'))];

interface Outcome { source: string; role: Role; status: string; score: number | null; risks: string[]; ms: number; note?: string }
const outcomes: Outcome[] = [];

async function session(browser: Browser, src: Source, role: Role): Promise<Outcome> {
  const t0 = Date.now();
  const w = byRole[role];
  const body: Record<string, unknown> = { workflow_id: w.workflow_id, vendor_data: `inj-${src.name}` };
  if (w.features.includes('FACE_MATCH')) body.portrait_image = await src.portrait();
  const { status, body: s } = await api(v, 'POST', '/v3/session/', body);
  if (status !== 201 && status !== 200) throw new Error(`session: ${status} ${JSON.stringify(s)}`);
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(s.url);
    await page.getByRole('button', { name: 'Take selfie', exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
    // A person presses "Take selfie", and again when the page asks them to (a capture refused for
    // quality, a busy server, a reloaded page): up to the workflow's capture attempts. The click waits
    // for the button to be enabled.
    const state = () => page.evaluate(() => {
      const shown = Array.from(document.querySelectorAll('section.state')).find((e) => !(e as HTMLElement).hidden)?.id ?? '';
      const take = document.getElementById('take') as HTMLButtonElement | null;
      const retry = document.getElementById('retry-message') as HTMLElement | null;
      return { shown, ready: !!take && !take.disabled && shown === 'state-capture', retry: retry && !retry.hidden ? (retry.textContent ?? '').trim() : '' };
    }).catch(() => ({ shown: '', ready: false, retry: '' }));
    let presses = 0, end = '', retryText = '';
    const until = Date.now() + 120_000;
    while (!end && Date.now() < until) {
      const st = await state();
      if (st.shown === 'state-done') end = 'done';
      else if (st.shown === 'state-error' || st.shown === 'state-expired') end = st.shown.slice(6);
      else if (st.ready) {
        if (st.retry) retryText = st.retry;
        if (presses >= (w.max_capture_attempts ?? 3)) end = 'retry';
        else {
          await page.waitForFunction(() => ((document.getElementById('video') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0, null, { timeout: 20_000 });
          await page.locator('#take').click({ timeout: 20_000 });
          presses++;
          await page.waitForTimeout(1500);
        }
      } else await page.waitForTimeout(300);
    }
    if (!end) throw new Error(`nothing after 120 s (showing ${(await state()).shown})`);
    const d = (await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body;
    const lc = d.liveness_checks?.[0];
    const note = end !== 'done' ? `${end} after ${presses} presses: ${retryText.slice(0, 80)}` : presses > 1 ? `${presses} presses (${retryText.slice(0, 60)})` : undefined;
    return { source: src.name, role, status: end === 'done' ? d.status : `page ${end}`, score: lc?.score ?? null, risks: (lc?.warnings ?? []).map((x: { risk: string }) => x.risk), ms: Date.now() - t0, ...(note ? { note } : {}) };
  } finally {
    await ctx.close();
  }
}

const roleCycle: Role[] = roles.flatMap((r) => Array(ROLE_WEIGHT[r]).fill(r));
const wanted = values.sources?.split(',');
const round = ROUND.filter((x) => !wanted || wanted.some((w) => x.name.startsWith(w)));
const jobs = Array.from({ length: TOTAL }, (_, i) => ({ src: round[i % round.length]!, k: Math.floor(i / round.length) }));
// each source's sessions go through its workflows in turn (sign-in 3 : enrolment 1 : FLASHING 1)
const seen = new Map<string, number>();
const plan = jobs.map((j) => { const n = seen.get(j.src.name) ?? 0; seen.set(j.src.name, n + 1); return { src: j.src, role: roleCycle[n % roleCycle.length]! }; });
const browsers = new Map<string, Browser>();
for (const src of new Set(plan.map((p) => p.src))) browsers.set(src.name, await launchWithCamera(src.camera));
const started = Date.now();
let done = 0, next = 0;
console.log(`injection through the capture page: ${plan.length} sessions over ${browsers.size} sources, parallel ${PARALLEL}, workflows ${roles.join(', ')} (shipped, virtual_camera: ignore), at most ${values['timeout-min']} min`);
const worker = async () => {
  while (next < plan.length && Date.now() < DEADLINE) {
    const { src, role } = plan[next++]!;
    try {
      outcomes.push(await session(browsers.get(src.name)!, src, role));
    } catch (err) {
      outcomes.push({ source: src.name, role, status: 'bench error', score: null, risks: [], ms: 0, note: (err as Error).message.split('\n')[0]!.slice(0, 120) });
    }
    done++;
    const o = outcomes.at(-1)!;
    if (done % 10 === 0 || o.status === 'Approved' || o.status === 'bench error') {
      console.log(`  [${done}/${plan.length} ${Math.round((Date.now() - started) / 1000)} s] ${o.source} ${o.role}: ${o.status} score ${o.score}${o.note ? ` (${o.note})` : ''}`);
    }
  }
};
try {
  await Promise.all(Array.from({ length: PARALLEL }, worker));
} finally {
  for (const b of browsers.values()) await b.close();
}
if (done < plan.length) console.log(`stopped at --timeout-min: ${done} of ${plan.length} sessions`);

// ---- report ----
const review = (role: Role) => byRole[role].liveness.review_threshold as number;
const line = (label: string, rows: Outcome[]) => {
  const c = (st: string) => rows.filter((r) => r.status === st).length;
  const scored = rows.filter((r) => r.score !== null);
  const max = scored.length ? Math.max(...scored.map((r) => r.score!)) : null;
  const above = rows.filter((r) => r.score !== null && r.score > review(r.role)).length;
  const other = rows.length - c('Approved') - c('In Review') - c('Declined');
  return `${label.padEnd(28)} ${String(rows.length).padStart(4)} ${String(c('Approved')).padStart(9)} ${String(c('In Review')).padStart(10)} ${String(c('Declined')).padStart(9)} ${String(other).padStart(6)} ${String(max ?? '-').padStart(10)} ${String(above).padStart(13)}`;
};
console.log(`\n${'source (workflow)'.padEnd(28)} ${'n'.padStart(4)} ${'Approved'.padStart(9)} ${'In Review'.padStart(10)} ${'Declined'.padStart(9)} ${'other'.padStart(6)} ${'max score'.padStart(10)} ${'above review'.padStart(13)}`);
const groups = [...clips.map((c) => `${c}.mp4`), 'still faces'];
const of = (g: string) => outcomes.filter((o) => (g === 'still faces' ? o.source.startsWith('still:') : o.source === g));
for (const g of groups) {
  console.log(line(g, of(g)));
  for (const r of roles) console.log(line(`  ${r} (${byRole[r].liveness.method}, review > ${review(r)})`, of(g).filter((o) => o.role === r)));
}
console.log(line('all', outcomes));
const risks = new Map<string, number>();
for (const o of outcomes) for (const r of new Set(o.risks)) risks.set(r, (risks.get(r) ?? 0) + 1);
console.log(`warnings (sessions): ${[...risks].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`);
const others = outcomes.filter((o) => o.note);
if (others.length) console.log(`sessions with a second press, a page retry / error, or a bench error: ${others.length}; e.g. ${[...new Set(others.map((o) => o.note!))].slice(0, 4).join(' | ')}`);
const ms = outcomes.map((o) => o.ms).filter((x) => x > 0).sort((a, b) => a - b);
console.log(`time: ${Math.round((Date.now() - started) / 1000)} s, per session p50 ${ms[Math.floor(ms.length / 2)]} ms`);
if (values.json) writeFileSync(values.json, JSON.stringify(outcomes, null, 1));
await v.stop();
await face.close();
tmp.remove();
