/**
 * Shared by the library benchmarks: load a package installed only for the run (not a dependency,
 * so tsc never resolves it), and time a function as the median over many runs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** require() a package installed with `npm install --no-save`; says how to install it when missing. */
export function optional(name: string, install: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return require(name);
  } catch {
    process.stderr.write(`${name} is not installed; run: npm install --no-save ${install}\n`);
    process.exit(2);
  }
}

/** Median ms per call of `fn` over `runs` runs of `reps` calls each (after one warm-up run). */
export function msPerCall(fn: () => void, runs = 31, reps = 50): number {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const t = (performance.now() - t0) / reps;
    if (r > 0) times.push(t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

export function fmt(ms: number): string {
  return ms >= 1 ? ms.toFixed(2) : ms >= 0.01 ? ms.toFixed(4) : ms.toExponential(2);
}
