// Graceful shutdown of `selfie-idp serve` (SIGTERM), in the order that loses nothing:
//   1. drain: /readyz answers 503 (both IdP and verifier) for SHUTDOWN_DRAIN_SECONDS, so a
//      balancer's health checks take this instance out while it still serves what reaches it;
//   2. the stack closes (src/run.ts): the verifier's jobs, then the IdP, then the verifier's HTTP
//      side, each finishing its work in flight;
//   3. by the end of SHUTDOWN_GRACE_SECONDS at the latest: past it, `onLate` (the CLI exits with
//      work unfinished rather than be killed mid-write by the orchestrator).
// SIGINT (Ctrl-C at a terminal) skips the drain delay: nobody is balancing a developer's laptop.
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { RunningStack } from './run.ts';

/** Time kept back from the grace period for closing stores and flushing logs. */
function closingMargin(graceMs: number): number {
  return Math.min(1000, graceMs / 10);
}

export async function shutdown(stack: Pick<RunningStack, 'readiness' | 'close'>, settings: Config['shutdown'], log: Logger, signal: string, onLate: () => void): Promise<void> {
  const started = Date.now();
  const deadline = started + settings.graceMs;
  const late = setTimeout(() => {
    log.error({ signal, graceMs: settings.graceMs }, 'shutdown: grace period over with work unfinished; exiting anyway');
    onLate();
  }, settings.graceMs);
  late.unref();

  stack.readiness.drain();
  const drainMs = signal === 'SIGINT' ? 0 : settings.drainMs;
  log.info({ signal, drainMs, graceMs: settings.graceMs }, 'shutting down: /readyz answers 503 from now on');
  if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));

  await stack.close(deadline - closingMargin(settings.graceMs));
  clearTimeout(late);
  log.info({ signal, ms: Date.now() - started }, 'shut down');
}
