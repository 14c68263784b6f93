/**
 * CPU per default-workflow (PASSIVE, screen light) session, stage by stage, in one thread: what the
 * verifier's face worker and liveness worker spend on one upload. CPU time (process.cpuUsage: every
 * thread of the process, so libvips' and onnxruntime's own threads count), not wall time: the
 * figure holds on a shared, loaded machine where latency does not.
 *
 *   face     the face engine on the still (decode, detector, 68 landmarks, ArcFace), in-process
 *   decode   the liveness worker's decode of the still and the burst
 *   signals  passiveLiveness (every signal + combine) with the session's screen-light pattern
 *
 * Sessions: the generated synthetic set (bench/liveness/generate.ts), bona fide by default (what a
 * sign-in uploads), `--kinds all` for every kind. Median per session over `--runs` warm passes.
 *
 *   PATH=node_modules/.bin:$PATH node bench/verifier/session-cpu.ts [--seeds 1001-1008] [--runs 5] [--kinds bona_fide|all]
 *   add --cpu-prof (node flag) to see where the time goes.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createAnalyzer } from '../../src/face/analyze.ts';
import { decodeFrames, decodeRgb } from '../../src/liveness/index.ts';
import { passiveLiveness } from '../../src/liveness/passive.ts';
import { loadRenderedSessions } from '../liveness/rendered-sessions.ts';

const { values } = parseArgs({ options: { data: { type: 'string', default: 'data/liveness-synthetic' }, seeds: { type: 'string', default: '1001-1008' }, runs: { type: 'string', default: '5' }, kinds: { type: 'string', default: 'bona_fide' } } });
const [s0, s1] = values.seeds!.split('-').map(Number) as [number, number];
const kinds = values.kinds === 'all' ? fs.readdirSync(values.data!).sort() : values.kinds!.split(',');
const sessions = loadRenderedSessions(values.data!, [s0, s1], kinds);
sharp.cache(false); // as the workers run it
const analyzer = await createAnalyzer({ threads: 1 });
await analyzer.warmUp();
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const runs = Number(values.runs);
const stages = ['face', 'decode', 'signals'] as const;
const per = sessions.map(() => ({ face: [] as number[], decode: [] as number[], signals: [] as number[] }));
let scored = 0;
for (let r = 0; r <= runs; r++) {
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i]!;
    const c0 = cpu();
    let face;
    try {
      face = (await analyzer.analyze(s.still)).face;
    } catch {
      continue; // a rendering the engine refuses is refused before liveness
    }
    const c1 = cpu();
    const [still, burst] = await Promise.all([decodeRgb(s.still), decodeFrames(s.frames.map((bytes, k) => ({ bytes, t: s.meta.times[k]! })))]);
    const c2 = cpu();
    passiveLiveness({ still, face: { box: face.box, landmarks: face.landmarks }, burst, captureIndex: s.meta.captureIndex, screenPattern: s.meta.screenPattern });
    const c3 = cpu();
    if (r === 0) { scored++; continue; } // warm-up pass
    per[i]!.face.push(c1 - c0); per[i]!.decode.push(c2 - c1); per[i]!.signals.push(c3 - c2);
  }
}
const med = (a: number[]) => { const b = a.slice().sort((x, y) => x - y); return b[b.length >> 1]!; };
const used = per.filter((p) => p.face.length);
const row = (k: (typeof stages)[number]) => used.map((p) => med(p[k]));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
console.log(`${scored} sessions (${kinds.join(',')}, seeds ${values.seeds}, ${sessions[0]?.frames.length} frames each), median of ${runs} warm runs each; mean over sessions; ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}`);
const totals = used.map((p) => med(p.face.map((v, k) => v + p.decode[k]! + p.signals[k]!)));
console.log(`CPU ms per session: face ${mean(row('face')).toFixed(1)}, liveness decode ${mean(row('decode')).toFixed(1)}, liveness signals ${mean(row('signals')).toFixed(1)}, total ${mean(totals).toFixed(1)} (max ${Math.max(...totals).toFixed(1)})`);
