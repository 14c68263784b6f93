// CPU time of this process by thread group, from /proc/self/task/*/stat (Linux): where a
// benchmark's CPU goes — the event loop, the face engine's and the liveness pool's workers (named
// in src/face/pool.ts and src/liveness/pool.ts), image decoding (sharp's libuv jobs and libvips'
// threads, for every caller) and V8's helper threads (concurrent garbage collection, compilation).
import fs from 'node:fs';

export const THREAD_GROUPS = ['event loop', 'face engine', 'liveness', 'decode', 'V8 helpers', 'other'] as const;
export type ThreadGroup = (typeof THREAD_GROUPS)[number];

function groupOf(comm: string): ThreadGroup {
  if (comm === 'MainThread') return 'event loop';
  if (comm === 'face-engine') return 'face engine';
  if (comm === 'liveness') return 'liveness';
  if (comm === 'libvips worker' || comm === 'libuv-worker') return 'decode';
  if (comm === 'V8Worker') return 'V8 helpers';
  return 'other';
}

/** CPU ms so far per thread id (threads that ended are not counted: pools keep theirs). */
function perThread(): Map<string, { group: ThreadGroup; ms: number }> {
  const out = new Map<string, { group: ThreadGroup; ms: number }>();
  const tick = 1000 / 100; // USER_HZ: 100 on Linux
  for (const tid of fs.readdirSync('/proc/self/task')) {
    let stat: string;
    try { stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'); } catch { continue; } // ended meanwhile
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(tid, { group: groupOf(comm), ms: (Number(f[11]) + Number(f[12])) * tick });
  }
  return out;
}

/** Starts a measurement; the returned function gives the CPU ms per group since then. */
export function threadCpu(): () => Record<ThreadGroup, number> {
  const before = perThread();
  return () => {
    const sums = Object.fromEntries(THREAD_GROUPS.map((g) => [g, 0])) as Record<ThreadGroup, number>;
    for (const [tid, t] of perThread()) sums[t.group] += t.ms - (before.get(tid)?.ms ?? 0);
    return sums;
  };
}
