// Workflows decide what a session runs (config/workflows.json). A session names its workflow by
// id; the type (kyc for enrolment, biometric_authentication for sign-in), the features, the
// thresholds and media retention all come from here, never from the session request.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { AUTO_DECLINE_RISKS, FEATURES, LIVENESS_METHODS, WORKFLOW_TYPES } from '../didit/index.ts';
import type { Feature, LivenessMethod, WorkflowType } from '../didit/index.ts';

const score = z.number().min(0).max(100);

/** Above review → Approved; above decline and at or below review → In Review; at or below decline → Declined. */
const thresholds = z
  .object({ review_threshold: score, decline_threshold: score })
  .refine((t) => t.decline_threshold <= t.review_threshold, 'decline_threshold must not be above review_threshold');

const workflowSchema = z
  .object({
    workflow_id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash and underscore only'),
    workflow_label: z.string().min(1).optional(),
    workflow_type: z.enum(WORKFLOW_TYPES),
    workflow_version: z.number().int().min(1).default(1),
    features: z.array(z.enum(FEATURES)).min(1).refine((f) => new Set(f).size === f.length, 'features must not repeat'),
    liveness: z
      .object({
        method: z.enum(LIVENESS_METHODS).default('PASSIVE'),
        /**
         * PASSIVE only (default true): during the burst the page switches the screen around the
         * viewfinder between white and dark grey in a server-chosen, single-use pattern (a challenge).
         */
        screen_light: z.boolean().optional(),
        /**
         * enforce (default): liveness decides with face match. observe: liveness runs and is
         * reported (status, score, warnings), but only face match decides the session: how an
         * operator measures a method in the field before enforcing it (docs/liveness.md).
         */
        mode: z.enum(['enforce', 'observe']).default('enforce'),
        /**
         * What a VIRTUAL_CAMERA warning (a known virtual camera, or no real camera stream behind
         * the upload) does: review (default), decline, or ignore (tests driving Chromium's fake camera).
         */
        virtual_camera: z.enum(['review', 'decline', 'ignore']).default('review'),
      })
      .and(thresholds)
      .optional(),
    face_match: thresholds.optional(),
    /**
     * The 1:N searches (blocklist, and duplicates at enrolment): a score above this takes the face
     * for the blocklisted or enrolled one. Unset: the face-match decline threshold (the default
     * one, 50, for a workflow without FACE_MATCH). docs/face-engine.md ("1:N search") says why a
     * large deployment wants it higher: the chance of a stranger above it grows with the accounts.
     */
    duplicate_threshold: z.number().min(0).max(100).optional(),
    /** Risks that decline the session outright; any other risk sends it to review. */
    auto_decline: z.array(z.enum(AUTO_DECLINE_RISKS)).default(['NO_FACE_DETECTED', 'MULTIPLE_FACES', 'LIVENESS_FACE_ATTACK', 'NO_REFERENCE_IMAGE']),
    /** Keep the capture (and show media URLs in the decision). Unset: VERIFIER_RETAIN_MEDIA. */
    retain_media: z.boolean().optional(),
    /** Captures refused for quality (no face, blur, ...) before the session is declined. */
    max_capture_attempts: z.number().int().min(1).max(10).default(3),
  })
  .superRefine((w, ctx) => {
    if (w.features.includes('LIVENESS') && !w.liveness) ctx.addIssue({ code: 'custom', path: ['liveness'], message: 'required when features include LIVENESS' });
    if (w.liveness && w.liveness.screen_light !== undefined && w.liveness.method !== 'PASSIVE') {
      ctx.addIssue({ code: 'custom', path: ['liveness', 'screen_light'], message: `applies to the PASSIVE method only (this workflow's method is ${w.liveness.method})` });
    }
    if (w.liveness?.mode === 'observe' && !w.features.includes('FACE_MATCH')) {
      // Nothing else would decide: an enrolment in observe mode would approve any face, a photo too.
      ctx.addIssue({ code: 'custom', path: ['liveness', 'mode'], message: 'observe needs FACE_MATCH in the features (face match is then what decides)' });
    }
    if (w.features.includes('FACE_MATCH') && !w.face_match) ctx.addIssue({ code: 'custom', path: ['face_match'], message: 'required when features include FACE_MATCH' });
    if (w.workflow_type === 'kyc' && w.features.includes('FACE_MATCH')) {
      // Enrolment creates the reference; matching it against itself would prove nothing.
      ctx.addIssue({ code: 'custom', path: ['features'], message: 'a kyc (enrolment) workflow cannot include FACE_MATCH' });
    }
  });

const fileSchema = z.object({ workflows: z.array(workflowSchema).min(1) });

export type Thresholds = { review_threshold: number; decline_threshold: number };
export type Workflow = {
  workflow_id: string;
  workflow_label?: string | undefined;
  workflow_type: WorkflowType;
  workflow_version: number;
  features: Feature[];
  /** screen_light: PASSIVE with the screen-light challenge (true by default for PASSIVE; false for the other methods). */
  liveness?: (Thresholds & { method: LivenessMethod; screen_light: boolean; mode: 'enforce' | 'observe'; virtual_camera: 'review' | 'decline' | 'ignore' }) | undefined;
  face_match?: Thresholds | undefined;
  duplicate_threshold?: number | undefined;
  auto_decline: string[];
  retain_media: boolean;
  max_capture_attempts: number;
};

export function loadWorkflows(file: string, retainMediaDefault: boolean): Workflow[] {
  if (!existsSync(file)) throw new ConfigError([`VERIFIER_WORKFLOWS_FILE: file ${file} does not exist`]);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`VERIFIER_WORKFLOWS_FILE: ${file} is not valid JSON (${(err as Error).message})`]);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `VERIFIER_WORKFLOWS_FILE (${file}) ${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const ids = parsed.data.workflows.map((w) => w.workflow_id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new ConfigError([`VERIFIER_WORKFLOWS_FILE (${file}): workflow_id ${dup} appears twice`]);
  return parsed.data.workflows.map((w) => ({
    ...w,
    liveness: w.liveness && { ...w.liveness, screen_light: w.liveness.method === 'PASSIVE' && (w.liveness.screen_light ?? true) },
    retain_media: w.retain_media ?? retainMediaDefault,
  }));
}

/** The liveness method the workflow judges, if it has LIVENESS. */
export function livenessMethodOf(workflow: Workflow): LivenessMethod | null {
  return workflow.features.includes('LIVENESS') ? (workflow.liveness?.method ?? null) : null;
}

/** PASSIVE with screen light: the burst is recorded under a server-chosen light pattern. */
export function usesScreenLight(workflow: Workflow): boolean {
  return livenessMethodOf(workflow) === 'PASSIVE' && workflow.liveness!.screen_light;
}

/** Observe mode: liveness is reported but does not decide the session. */
export function observesLiveness(workflow: Workflow): boolean {
  return livenessMethodOf(workflow) !== null && workflow.liveness!.mode === 'observe';
}

/** FLASHING, ACTIVE_3D and PASSIVE with screen light: the page performs a server-chosen challenge. */
export function usesChallenge(workflow: Workflow): boolean {
  const m = livenessMethodOf(workflow);
  return m === 'FLASHING' || m === 'ACTIVE_3D' || usesScreenLight(workflow);
}

/** The first workflow of each type: what the IdP uses when it runs the embedded verifier. */
export function defaultWorkflowIds(workflows: Workflow[]): { reauth: string | undefined; enrol: string | undefined; challenge: { ACTIVE_3D?: string; FLASHING?: string } } {
  const sign = workflows.filter((w) => w.workflow_type === 'biometric_authentication');
  // A challenge that only observes does not decide: it cannot earn face-active.
  const withMethod = (m: LivenessMethod) => sign.find((w) => livenessMethodOf(w) === m && w.liveness!.mode === 'enforce')?.workflow_id;
  const active = withMethod('ACTIVE_3D');
  const flashing = withMethod('FLASHING');
  return {
    reauth: sign[0]?.workflow_id,
    enrol: workflows.find((w) => w.workflow_type === 'kyc')?.workflow_id,
    challenge: { ...(active ? { ACTIVE_3D: active } : {}), ...(flashing ? { FLASHING: flashing } : {}) },
  };
}
