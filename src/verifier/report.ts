// The field calibration report (`selfie-idp liveness report`): how liveness scores fall on the
// sessions this deployment actually judged. A session whose face match was Approved is taken as
// the user's own face in front of the camera ("genuine"); every other session is "other" (face
// match not approved, or no face match at all). On the genuine ones, the share at or below a
// threshold is the BPCER that threshold would have given: the live users it would have refused.
// Reads scores and warnings only (the decision blocks and the per-signal scores kept beside
// them), never images. docs/liveness.md, "Calibrating in the field", gives the procedure.
import type { LivenessMethod } from '../didit/index.ts';
import type { SessionRecord } from './sessions/types.ts';
import type { Workflow } from './workflows.ts';

export type ReportOptions = { since?: number; workflowId?: string; targetBpcer?: number };

export type Distribution = {
  n: number;
  min: number | null;
  p2: number | null;
  p5: number | null;
  p10: number | null;
  p25: number | null;
  median: number | null;
  max: number | null;
};

export type ThresholdRow = { threshold: number; genuine_at_or_below: number | null; others_at_or_below: number | null };

export type MethodReport = {
  method: LivenessMethod;
  sessions: number;
  genuine: number;
  others: number;
  score: { genuine: Distribution; others: Distribution };
  /** Share of sessions with a score at or below each threshold (0, 5, … 100). */
  thresholds: ThresholdRow[];
  /** The workflows of this method as configured, and the BPCER their thresholds gave here. */
  configured: { workflow_id: string; mode: string; review_threshold: number; decline_threshold: number; bpcer_review: number | null; bpcer_decline: number | null }[];
  /** The highest threshold (whole number) whose BPCER on the genuine sessions stays within the target; null without enough of them. */
  suggested_threshold: number | null;
  signals: { signal: string; genuine: Distribution; others: Distribution; suggested_threshold: number | null }[];
  warnings: { risk: string; genuine: number; others: number }[];
  note: string | null;
};

export type FieldReport = {
  generated_at: string;
  since: string | null;
  workflow_id: string | null;
  target_bpcer: number;
  sessions: number;
  methods: MethodReport[];
};

/** Fewer genuine sessions than this and a 2 % figure rests on less than one session. */
export const MIN_GENUINE = 50;

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest rank: the value below which a share q of the sessions lies (no interpolation).
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function distribution(values: number[]): Distribution {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, min: s[0] ?? null, p2: quantile(s, 0.02), p5: quantile(s, 0.05), p10: quantile(s, 0.1), p25: quantile(s, 0.25), median: quantile(s, 0.5), max: s.at(-1) ?? null };
}

const shareAtOrBelow = (values: number[], t: number): number | null => (values.length ? round4(values.filter((v) => v <= t).length / values.length) : null);
const round4 = (v: number) => Math.round(v * 10000) / 10000;

/** The highest candidate whose share of genuine values at or below it stays within the target. */
function suggest(genuine: number[], candidates: number[], target: number): number | null {
  if (genuine.length < MIN_GENUINE) return null;
  let best: number | null = null;
  for (const t of candidates) if ((shareAtOrBelow(genuine, t) ?? 1) <= target) best = t;
  return best;
}

type Judged = { record: SessionRecord; method: LivenessMethod; score: number; genuine: boolean };

function judged(records: SessionRecord[], options: ReportOptions): Judged[] {
  const out: Judged[] = [];
  for (const record of records) {
    const check = record.liveness_checks?.[0];
    // Only sessions liveness actually scored (a refused or unusable capture has no score to calibrate).
    if (!check || typeof check.score !== 'number' || !check.method) continue;
    if (options.since !== undefined && record.created_at < options.since) continue;
    if (options.workflowId !== undefined && record.workflow_id !== options.workflowId) continue;
    out.push({ record, method: check.method, score: check.score, genuine: record.face_matches?.[0]?.status === 'Approved' });
  }
  return out;
}

export function fieldReport(records: SessionRecord[], workflows: Workflow[], options: ReportOptions = {}, now = Date.now()): FieldReport {
  const target = options.targetBpcer ?? 0.02;
  const sessions = judged(records, options);
  const methods = [...new Set(sessions.map((s) => s.method))].sort();
  return {
    generated_at: new Date(now).toISOString(),
    since: options.since !== undefined ? new Date(options.since).toISOString() : null,
    workflow_id: options.workflowId ?? null,
    target_bpcer: target,
    sessions: sessions.length,
    methods: methods.map((method) => methodReport(method, sessions.filter((s) => s.method === method), workflows, options, target)),
  };
}

function methodReport(method: LivenessMethod, sessions: Judged[], workflows: Workflow[], options: ReportOptions, target: number): MethodReport {
  const genuine = sessions.filter((s) => s.genuine);
  const others = sessions.filter((s) => !s.genuine);
  const g = genuine.map((s) => s.score);
  const o = others.map((s) => s.score);
  const steps = Array.from({ length: 21 }, (_, i) => i * 5);
  const signalNames = [...new Set(sessions.flatMap((s) => Object.keys(s.record.liveness_signals ?? {})))].sort();
  const signalValues = (list: Judged[], name: string) => list.map((s) => s.record.liveness_signals?.[name]).filter((v): v is number => typeof v === 'number');
  const risks = new Map<string, { genuine: number; others: number }>();
  for (const s of sessions) {
    for (const w of new Set(s.record.liveness_checks![0]!.warnings.map((x) => x.risk))) {
      const row = risks.get(w) ?? { genuine: 0, others: 0 };
      if (s.genuine) row.genuine++;
      else row.others++;
      risks.set(w, row);
    }
  }
  const configured = workflows
    .filter((w) => w.liveness?.method === method && w.features.includes('LIVENESS') && (options.workflowId === undefined || w.workflow_id === options.workflowId))
    .map((w) => ({
      workflow_id: w.workflow_id,
      mode: w.liveness!.mode,
      review_threshold: w.liveness!.review_threshold,
      decline_threshold: w.liveness!.decline_threshold,
      bpcer_review: shareAtOrBelow(g, w.liveness!.review_threshold),
      bpcer_decline: shareAtOrBelow(g, w.liveness!.decline_threshold),
    }));
  return {
    method,
    sessions: sessions.length,
    genuine: genuine.length,
    others: others.length,
    score: { genuine: distribution(g), others: distribution(o) },
    thresholds: steps.map((t) => ({ threshold: t, genuine_at_or_below: shareAtOrBelow(g, t), others_at_or_below: shareAtOrBelow(o, t) })),
    configured,
    suggested_threshold: suggest(g, Array.from({ length: 101 }, (_, i) => i), target),
    signals: signalNames.map((name) => {
      const gs = signalValues(genuine, name);
      return { signal: name, genuine: distribution(gs), others: distribution(signalValues(others, name)), suggested_threshold: suggest(gs, Array.from({ length: 101 }, (_, i) => i / 100), target) };
    }),
    warnings: [...risks].map(([risk, c]) => ({ risk, ...c })).sort((a, b) => b.genuine + b.others - (a.genuine + a.others)),
    note: genuine.length < MIN_GENUINE ? `only ${genuine.length} sessions with an approved face match: at least ${MIN_GENUINE} are needed before a threshold is suggested` : null,
  };
}

const pct = (v: number | null) => (v === null ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`);
const num = (v: number | null) => (v === null ? '-' : String(Math.round(v * 1000) / 1000));

/** The report for a person: one block per method. */
export function formatReport(r: FieldReport): string {
  const lines: string[] = [];
  lines.push(`Liveness field report, ${r.generated_at}${r.since ? ` (sessions since ${r.since})` : ''}${r.workflow_id ? `, workflow ${r.workflow_id}` : ''}`);
  lines.push(`Sessions scored by liveness: ${r.sessions}. "genuine" = face match Approved (the user's own face); BPCER at a threshold = genuine sessions at or below it. Target BPCER ${(r.target_bpcer * 100).toFixed(1)} %.`);
  if (r.methods.length === 0) lines.push('No session with a liveness score in the store (sessions are kept for VERIFIER_SESSION_RETENTION).');
  for (const m of r.methods) {
    lines.push('', `== ${m.method}: ${m.sessions} sessions, ${m.genuine} genuine, ${m.others} other`);
    const d = (x: Distribution) => `n ${x.n}, min ${num(x.min)}, p2 ${num(x.p2)}, p5 ${num(x.p5)}, p10 ${num(x.p10)}, median ${num(x.median)}, max ${num(x.max)}`;
    lines.push(`score, genuine: ${d(m.score.genuine)}`, `score, other:   ${d(m.score.others)}`);
    lines.push('threshold   genuine <= (BPCER)   other <=');
    for (const t of m.thresholds) lines.push(`${String(t.threshold).padStart(9)}   ${pct(t.genuine_at_or_below).padStart(17)}   ${pct(t.others_at_or_below)}`);
    for (const c of m.configured) lines.push(`workflow ${c.workflow_id} (${c.mode}): review ${c.review_threshold} -> BPCER ${pct(c.bpcer_review)} sent to review or declined; decline ${c.decline_threshold} -> BPCER ${pct(c.bpcer_decline)} declined`);
    lines.push(`highest threshold keeping BPCER <= ${(r.target_bpcer * 100).toFixed(1)} %: ${m.suggested_threshold ?? '- (not enough genuine sessions)'}`);
    if (m.note) lines.push(`note: ${m.note}`);
    if (m.signals.length) {
      lines.push('signal               genuine p2 / p5 / median    other p2 / median    threshold for the target');
      for (const s of m.signals) lines.push(`${s.signal.padEnd(20)} ${num(s.genuine.p2)} / ${num(s.genuine.p5)} / ${num(s.genuine.median)}`.padEnd(48) + `${num(s.others.p2)} / ${num(s.others.median)}`.padEnd(21) + `${num(s.suggested_threshold)}`);
    }
    if (m.warnings.length) lines.push('warnings (sessions): ' + m.warnings.map((w) => `${w.risk} ${w.genuine} genuine / ${w.others} other`).join('; '));
  }
  return lines.join('\n');
}
