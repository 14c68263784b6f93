// Cold start and idle memory of `npm start` on a fresh DATA_DIR (no Redis): time from spawn to
// the first 200 from the discovery document, then RSS of the server process after 5 s idle (the
// whole default stack: IdP, embedded verifier with its face-engine workers warmed, demo RP).
// Run: PATH=node_modules/.bin:$PATH node bench/startup.ts [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const runs = Number(process.argv[2] ?? 5);
const root = path.resolve(import.meta.dirname, '..');

function serverPid(parent: number): number {
  // npm → sh → node: find the node process whose command line is the server.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (cmd.includes('src/cli.ts\0serve') && Number(stat.split(' ')[3]) !== 0) return Number(pid);
    } catch {}
  }
  return parent;
}

const results: { ms: number; rssMb: number }[] = [];
for (let i = 0; i < runs; i++) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
  // BENCH_PORT: another checkout's benchmark on the same machine may hold 3900+ (its server then answers ours).
  const port = Number(process.env.BENCH_PORT ?? 3900) + i;
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), VERIFIER_PORT: String(port + 100), DEMO_RP_PORT: String(port + 200), LOG_LEVEL: 'warn' }, stdio: 'ignore', detached: true });
  let ms = 0;
  for (;;) {
    if (performance.now() - started > 60_000) throw new Error(`no discovery on port ${port} after 60 s`);
    const ok = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (ok) {
      ms = performance.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 5000));
  const pid = serverPid(child.pid!);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  process.kill(-child.pid!, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dataDir, { recursive: true, force: true });
  results.push({ ms, rssMb: rss });
  console.log(`run ${i + 1}: discovery after ${ms.toFixed(0)} ms, idle RSS ${rss.toFixed(1)} MB`);
}
const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
console.log(`cold start (npm start → discovery 200): median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms; idle RSS median ${results.map((r) => r.rssMb).sort((a, b) => a - b)[Math.floor(results.length / 2)]!.toFixed(1)} MB`);
