// The main thread's sampling profile of the login benchmark's timed part (bench/login/run.ts
// --profile DIR), summarised by component: the IdP, the verifier's HTTP side and the driver share
// that thread. Per-thread CPU: bench/thread-cpu.ts (--cpu).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

/** A sampling profile of the main thread (node:inspector), started and stopped around the timed part. */
export class MainProfile {
  readonly #session = new Session();
  async start(): Promise<void> {
    this.#session.connect();
    await this.#session.post('Profiler.enable');
    await this.#session.post('Profiler.setSamplingInterval', { interval: 200 });
    await this.#session.post('Profiler.start');
  }
  async stop(file: string): Promise<Profile> {
    const { profile } = (await this.#session.post('Profiler.stop')) as unknown as { profile: Profile };
    this.#session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return profile;
  }
}

type Frame = { functionName: string; url: string; lineNumber: number };
type Node = { id: number; callFrame: Frame; children?: number[] };
export type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Where a frame's code lives: a project file (relative path), a package, or node's own. */
function place(f: Frame): string {
  const url = f.url.startsWith('file://') ? decodeURIComponent(f.url.slice(7)) : f.url;
  if (!url) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return `pkg:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith(ROOT)) return path.relative(ROOT, url);
  if (url.startsWith('node:')) return url;
  return url;
}

/** Component of a project file. */
function component(file: string): string {
  if (file.startsWith('bench/') || file.startsWith('test/helpers/')) return 'bench driver';
  const m = /^src\/(verifier|idp|store|http|liveness|face|ops|risk)\//.exec(file);
  if (m) return `src/${m[1]}`;
  if (file.startsWith('src/')) return 'src (other)';
  return file;
}

/**
 * Self time of the main thread by component: the sample's own frame's package or node module,
 * charged to the innermost project frame on its stack ("src/idp via pkg:oidc-provider"). Samples
 * under the burst rendering (bench/bursts.ts screenLightAnswer: the user's time, not timed) are
 * apart. Returns ms by component and the top functions by self time.
 */
export function summarise(profile: Profile, top = 40): { byComponent: [string, number][]; byFunction: [string, number][]; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const owner = (id: number): string => {
    const hit = memo.get(id);
    if (hit) return hit;
    const self = byId.get(id)!.callFrame;
    const selfPlace = place(self);
    let result: string | undefined;
    let project: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.url.includes('bench/bursts.ts') || f.url.includes('test/synthetic/')) {
        result = 'bench rendering (not timed)';
        break;
      }
      const p = place(f);
      if (!project && !p.startsWith('pkg:') && !p.startsWith('node:') && !p.startsWith('(') && p.includes('/')) project = component(p);
    }
    if (!result) {
      if (selfPlace === '(garbage collector)' || selfPlace === '(idle)' || selfPlace === '(program)') result = selfPlace;
      else if (!selfPlace.startsWith('pkg:') && !selfPlace.startsWith('node:') && selfPlace.includes('/')) result = component(selfPlace);
      else result = `${project ?? '(no project frame)'} via ${selfPlace.startsWith('node:') ? selfPlace.replace(/^node:internal\/(deps\/)?/, 'node:').split('/').slice(0, 2).join('/') : selfPlace}`;
    }
    memo.set(id, result);
    return result;
  };
  const comp = new Map<string, number>();
  const fn = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const id = profile.samples[i]!;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    totalMs += ms;
    const o = owner(id);
    comp.set(o, (comp.get(o) ?? 0) + ms);
    const key = `${f.functionName || '(anon)'} ${place(f)}:${f.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { byComponent: sorted(comp), byFunction: sorted(fn).slice(0, top), totalMs };
}
