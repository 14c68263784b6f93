/**
 * Combination of signals into the liveness score 0–100 and the decisions, per method.
 *
 * score = 100 × Π sᵢ^wᵢ over the signals that apply (sᵢ in 0..1, 1 = live-looking; wᵢ the
 * method's weight). One strong piece of attack evidence is enough to pull the score down; weak
 * evidence from several signals adds up. Then:
 *  - score ≤ ATTACK_THRESHOLD[method]  → attack = true  → LIVENESS_FACE_ATTACK (auto-decline risk)
 *  - score ≤ the workflow's review threshold → LOW_LIVENESS_SCORE (the verifier applies its own
 *    review/decline thresholds; LIVE_THRESHOLD is the default used by the CLI and the benchmark)
 * Signals in REVIEW_ONLY are left out of the attack decision and may pull the score down to the
 * review band only (ATTACK_THRESHOLD + 1), never into the decline band.
 */
import type { LivenessMethod, LivenessResult, LivenessWarning, SignalName, SignalResult } from './types.ts';
import { livenessWarning } from './warnings.ts';

export const WEIGHTS: Record<LivenessMethod, Partial<Record<SignalName, number>>> = {
  PASSIVE: { device_border: 1, screen_moire: 1, motion: 1, device_motion: 1, screen_light: 1, light_shading: 1, light_falloff: 1, capture_consistency: 1, screen_glare: 0.5, print_texture: 0.6 },
  FLASHING: { flash_response: 1, flash_shading: 1, challenge_track: 1, same_face: 1, device_border: 1, screen_moire: 1, screen_glare: 0.5, print_texture: 0.6 },
  ACTIVE_3D: { challenge_track: 1, parallax_3d: 1, same_face: 1, device_border: 1, screen_moire: 1, screen_glare: 0.5, print_texture: 0.6 },
};

/**
 * Still-image signals that may send a capture to review but never decline it (issue 12, item 2).
 * On real face crops (../shared/pad-real, calibration half; docs/liveness.md, "Still-image signals
 * on real crops") neither could keep BPCER ≤ 5 % in every source while refusing any attack:
 * screen_moire finds stronger spectral peaks on live webcam crops (JPEG, resampling, sharpening)
 * than on the real attack crops, and print_texture's contrast/colour measures overlap completely.
 * They keep their warnings (SCREEN_MOIRE, PRINT_LOOK) and their pull on the score, down to review.
 */
export const REVIEW_ONLY: ReadonlySet<SignalName> = new Set<SignalName>(['screen_moire', 'print_texture']);

/** At or below: presentation attack (LIVENESS_FACE_ATTACK). */
export const ATTACK_THRESHOLD: Record<LivenessMethod, number> = { PASSIVE: 30, FLASHING: 30, ACTIVE_3D: 30 };
/** Above: live under the default thresholds (CLI, benchmark). Workflows set their own review/decline thresholds. */
export const LIVE_THRESHOLD = 50;
/**
 * PASSIVE with the screen-light signals: the operating point chosen on the calibration ROC (seeds
 * 1–60, face engine boxes: BPCER 0.6 %, APCER ≤ 3.3 % per attack type at 40; 5.0 % / 1.7 % at 50,
 * where a lone three-sided room edge behind a live head, device_border 0.45, refuses it). The
 * shipped PASSIVE workflows review at 40. (docs/liveness.md, Benchmark)
 */
export const SCREEN_LIGHT_LIVE_THRESHOLD = 40;

export function combine(method: LivenessMethod, signals: readonly SignalResult[], ms = 0, opts: { liveThreshold?: number } = {}): LivenessResult {
  const weights = WEIGHTS[method];
  let logScore = 0, logDecisive = 0;
  const applied: SignalName[] = [];
  for (const s of signals) {
    if (!s.applies) continue;
    applied.push(s.signal);
    const w = weights[s.signal] ?? 0;
    const l = w * Math.log(Math.max(1e-4, s.score));
    logScore += l;
    if (!REVIEW_ONLY.has(s.signal)) logDecisive += l;
  }
  // the attack decision rests on the signals that may decline; review-only ones can bring the
  // score to just above the attack threshold (In Review under the shipped workflows, which
  // decline at 30), so a live face they misread is reviewed, not refused
  const decisive = Math.round(100 * Math.exp(logDecisive));
  const attack = decisive <= ATTACK_THRESHOLD[method];
  const full = Math.round(100 * Math.exp(logScore));
  const score = attack ? full : Math.max(full, Math.min(decisive, ATTACK_THRESHOLD[method] + 1));
  const liveAt = opts.liveThreshold ?? (method === 'PASSIVE' && applied.includes('screen_light') ? SCREEN_LIGHT_LIVE_THRESHOLD : LIVE_THRESHOLD);
  const live = !attack && score > liveAt;
  const warnings: LivenessWarning[] = signals.flatMap((s) => (s.warning && s.applies ? [s.warning] : []));
  if (attack) warnings.unshift(livenessWarning('LIVENESS_FACE_ATTACK', 'error', { score, signals: signals.filter((s) => s.applies && s.score < 0.5).map((s) => s.signal) }));
  else if (!live) warnings.unshift(livenessWarning('LOW_LIVENESS_SCORE', 'warning', { score }));
  return { method, score, attack, live, signals: [...signals], warnings, applied, ms: Math.round(ms) };
}
