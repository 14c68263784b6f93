// The rendered sessions of bench/liveness/generate.ts (DIR/KIND/SEED[0-2]/{sample.json, still.jpg,
// frames/}), read into memory for the CPU benches, so timing never includes the disk.
import fs from 'node:fs';
import path from 'node:path';
import type { Box } from '../../src/liveness/types.ts';

export type RenderedSession = {
  id: string;
  still: Buffer;
  frames: Buffer[];
  meta: { stillFace: { box: Box }; captureIndex: number; times: number[]; screenPattern?: number[] };
};

/** Every session of `kinds` (default: every kind in `dir`) whose seed is in [s0, s1]. */
export function loadRenderedSessions(dir: string, seeds: [number, number | undefined], kinds = fs.readdirSync(dir).sort()): RenderedSession[] {
  const [s0, s1] = seeds;
  const sessions: RenderedSession[] = [];
  for (const kind of kinds) {
    for (let s = s0; s <= (s1 ?? s0); s++) {
      for (const sub of [String(s), ...[0, 1, 2].map((k) => `${s}${k}`)]) {
        const at = path.join(dir, kind, sub);
        if (!fs.existsSync(path.join(at, 'sample.json'))) continue;
        const meta = JSON.parse(fs.readFileSync(path.join(at, 'sample.json'), 'utf8'));
        const files = fs.readdirSync(path.join(at, 'frames')).sort();
        sessions.push({ id: `${kind}/${sub}`, meta, still: fs.readFileSync(path.join(at, 'still.jpg')), frames: files.map((f) => fs.readFileSync(path.join(at, 'frames', f))) });
      }
    }
  }
  return sessions;
}
