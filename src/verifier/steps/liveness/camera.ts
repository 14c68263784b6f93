// Injection signals: what the capture page says about the camera behind the upload. A video
// injected through a virtual camera (OBS, ManyCam, Snap Camera, a browser's fake device…) shows
// its driver's name as the track label; a script posting frames has no camera at all; a stream
// that stopped or froze is not a person in front of a lens. None of this is proof (a label can be
// renamed, a report forged): it is a VIRTUAL_CAMERA warning whose action the workflow chooses,
// review by default (docs/liveness.md, "Injection signals").
import type { LivenessCheck } from '../../../didit/index.ts';
import type { Workflow } from '../../workflows.ts';
import { warning } from '../warnings.ts';

/** What the page reports of the video track it captured from (multipart field `camera`, JSON). */
export type CameraReport = {
  label: string;
  readyState?: string;
  muted?: boolean;
  settings?: Record<string, string | number | boolean>;
};

/** Labels of virtual cameras and capture drivers that feed a file, a screen or an app as a camera. */
const VIRTUAL_LABELS: [RegExp, string][] = [
  [/\bobs\b|obs[- ]virtual/i, 'OBS Virtual Camera'],
  [/manycam/i, 'ManyCam'],
  [/snap camera/i, 'Snap Camera'],
  [/xsplit/i, 'XSplit VCam'],
  [/splitcam/i, 'SplitCam'],
  [/e2esoft|vcam/i, 'e2eSoft VCam'],
  [/camtwist/i, 'CamTwist'],
  [/mmhmm/i, 'mmhmm'],
  [/youcam/i, 'CyberLink YouCam'],
  [/nvidia broadcast/i, 'NVIDIA Broadcast'],
  [/v4l2 ?loopback|dummy video/i, 'v4l2loopback'],
  [/droidcam|iriun|epoccam|camo\b/i, 'a phone-as-webcam app'],
  [/\bfake[_ ]?device|fake video|fake camera/i, "a browser's fake camera"],
  // Chromium's fake camera fed from a file (--use-file-for-fake-video-capture) is labelled with its path.
  [/\.(y4m|mjpe?g)$/i, "a browser's fake camera playing a video file"],
  [/virtual/i, 'a virtual camera'],
];

const MAX_REPORT_BYTES = 2048;

/** The `camera` field: JSON of a CameraReport, or undefined when absent or not one. */
export function parseCameraReport(raw: string | undefined): CameraReport | undefined {
  if (raw === undefined || raw.length > MAX_REPORT_BYTES) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (!v || typeof v !== 'object' || typeof (v as CameraReport).label !== 'string') return undefined;
    const r = v as CameraReport;
    return {
      label: r.label.slice(0, 200),
      ...(typeof r.readyState === 'string' ? { readyState: r.readyState.slice(0, 16) } : {}),
      ...(typeof r.muted === 'boolean' ? { muted: r.muted } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Why this upload looks injected, or null. `frozen`: the liveness signals saw identical frames. */
export function virtualCameraReason(camera: CameraReport | undefined, frozen: boolean): string | null {
  if (!camera) return 'no camera report: the upload did not come from a camera on the capture page';
  const known = VIRTUAL_LABELS.find(([re]) => re.test(camera.label));
  if (known) return `camera label names ${known[1]}`;
  if (camera.readyState !== undefined && camera.readyState !== 'live') return `the camera stream was ${camera.readyState}`;
  if (camera.muted === true) return 'the camera stream was muted (no frames)';
  if (frozen) return 'the camera stream was frozen';
  return null;
}

/** Adds VIRTUAL_CAMERA to the LIVENESS block and applies the workflow's action to its status. */
export function applyVirtualCamera(check: LivenessCheck, workflow: Workflow, reason: string | null): LivenessCheck {
  const action = workflow.liveness!.virtual_camera;
  // ignore: said nowhere, so a test driving Chromium's fake camera sees the decision a real camera would get.
  if (!reason || action === 'ignore') return check;
  const logType = action === 'decline' ? 'error' : 'warning';
  const warnings = [...check.warnings, warning('LIVENESS', 'VIRTUAL_CAMERA', logType, check.node_id, { reason, action })];
  let status = check.status;
  if (action === 'decline') status = 'Declined';
  else if (action === 'review' && status === 'Approved') status = 'In Review';
  return { ...check, status, warnings };
}
