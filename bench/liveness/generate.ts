/**
 * Synthetic PASSIVE set on disk: for each kind and seed, what the capture page would upload — a
 * 640×480 still (JPEG), a 12-frame 320×240 burst (JPEG frames) with timestamps — plus the face box
 * and, with --y4m, the burst as a y4m video for `selfie-idp liveness`.
 *
 *   PATH=node_modules/.bin:$PATH node bench/liveness/generate.ts [--out data/liveness-synthetic]
 *        [--seeds 1-20] [--kinds bona_fide,print_handheld,...] [--bona-fide-factor 3] [--y4m] [--png]
 *        [--no-screen-light]
 *
 * Deterministic: the same kind and seed always give the same files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodePng } from '../../src/liveness/image.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { randomScreenPattern } from '../../src/liveness/signals/screen-light.ts';
import { ATTACK_TYPES, generatePassiveSample, type SampleKind } from '../../test/synthetic/generate.ts';
import { loadFaceSources } from '../../test/synthetic/head.ts';
import { writeY4m } from '../../src/liveness/y4m.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data/liveness-synthetic' },
    seeds: { type: 'string', default: '1-20' },
    kinds: { type: 'string', default: ['bona_fide', ...ATTACK_TYPES].join(',') },
    'bona-fide-factor': { type: 'string', default: '3' },
    y4m: { type: 'boolean', default: false },
    png: { type: 'boolean', default: false },
    // PASSIVE as the page runs it by default: the screen around the viewfinder follows a random
    // white/dark-grey pattern during the burst (ScreenLightChallenge). --no-screen-light: without.
    'screen-light': { type: 'boolean', default: true },
    'no-screen-light': { type: 'boolean', default: false },
  },
});

export function parseSeeds(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (b === undefined) out.push(a!);
    else for (let i = a!; i <= b; i++) out.push(i);
  }
  return out;
}

const faces = await loadFaceSources();
const seeds = parseSeeds(values.seeds!);
const kinds = values.kinds!.split(',') as SampleKind[];
const bfFactor = Number(values['bona-fide-factor']);
let n = 0;
const t0 = performance.now();
for (const kind of kinds) {
  // more bona fide than any one attack type: BPCER needs the samples
  const ks = kind === 'bona_fide' ? seeds.flatMap((s) => Array.from({ length: bfFactor }, (_, i) => s * 10 + i)) : seeds;
  for (const seed of ks) {
    const dir = path.join(values.out!, kind, String(seed));
    if (fs.existsSync(path.join(dir, 'sample.json'))) continue;
    // the pattern a server would have issued for this session (deterministic per kind and seed)
    const screenPattern = values['no-screen-light'] ? undefined : randomScreenPattern(seededRng(seed * 7907 + kind.length * 131 + kind.charCodeAt(0) + 0x5c1e));
    const s = await generatePassiveSample(kind, seed, faces, screenPattern ? { screenLight: { pattern: screenPattern } } : {});
    fs.mkdirSync(path.join(dir, 'frames'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'still.jpg'), s.stillJpeg!);
    s.burstJpeg!.forEach((b, i) => fs.writeFileSync(path.join(dir, 'frames', `${String(i).padStart(2, '0')}.jpg`), b));
    if (values.y4m) fs.writeFileSync(path.join(dir, 'burst.y4m'), writeY4m(s.burst.map((f) => f.image), 1000 / 80));
    if (values.png) fs.writeFileSync(path.join(dir, 'still.png'), await encodePng(s.still));
    fs.writeFileSync(path.join(dir, 'sample.json'), JSON.stringify({
      kind, attack: s.attack, seed, source: s.file, stillFace: s.stillFace, burstFace: s.burstFace, captureIndex: s.captureIndex,
      times: s.burst.map((f) => f.t), meta: s.meta, ...(screenPattern ? { screenPattern } : {}),
    }) + '\n');
    n++;
  }
}
console.log(`generated ${n} samples in ${Math.round((performance.now() - t0) / 1000)} s under ${values.out}`);
