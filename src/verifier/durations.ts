// Durations in configuration: "500ms", "30s", "15m", "2h", "7d", or a bare number of seconds.
// Everything inside the verifier works in milliseconds.
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}

/** A zod schema for one duration, with bounds so a typo like "7" (seconds, not days) is caught. */
export function duration(min: number, max: number) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s, 15m, 2h or 7d' });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${formatDuration(min)} and ${formatDuration(max)}` });
      return z.NEVER;
    }
    return ms;
  });
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Store TTLs are whole seconds and at least one. */
export function ttlSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
