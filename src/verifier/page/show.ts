// GET /session/<token> — the hosted capture page. Opening it starts the session (Not Started →
// In Progress, which starts the capture window) and hands this page load a single-use upload
// grant. Finished, expired and unknown sessions get their own screen instead of the camera.
import type { Context } from 'koa';
import type { VerifierDeps } from '../deps.ts';
import { newUploadId, saveGrant } from '../capture/upload-grant.ts';
import { callbackUrl } from '../capture/respond.ts';
import { sessionUrl } from '../sessions/decision.ts';
import { abandon, openPage } from '../sessions/lifecycle.ts';
import { sessionIdForToken } from '../sessions/repo.ts';
import { updateSession } from '../sessions/transition.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { MESSAGES, pickLanguage, scriptTexts } from './i18n.ts';
import { qrSvg } from './qr.ts';
import { livenessMethodOf, usesScreenLight } from '../workflows.ts';
import { jsonForHtml, renderVerifierPage } from './render.ts';
import { isViewer, rememberViewer } from './viewer.ts';
import { recordTtlSeconds } from '../sessions/repo.ts';

export const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

export type PageState = 'capture' | 'done' | 'expired';

function stateOf(record: SessionRecord | undefined): PageState {
  if (!record) return 'expired';
  if (record.status === 'In Progress') return 'capture';
  if (record.status === 'Approved' || record.status === 'Declined' || record.status === 'In Review') return 'done';
  return 'expired';
}

export function showSessionPage(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const token = String(ctx.params.token);
    const handoff = ctx.query.handoff === '1';
    const sessionId = TOKEN.test(token) ? await sessionIdForToken(deps.store, token) : undefined;
    const uploadId = newUploadId();
    const window = deps.config.captureWindowMs;
    const result = sessionId
      ? await updateSession(deps, sessionId, (r, now) => {
          let next = openPage(r, now) ?? r;
          next = abandon(window)(next, now) ?? next;
          return next.status === 'In Progress' ? { ...next, upload_id: uploadId } : next === r ? undefined : next;
        })
      : undefined;
    const record = result?.record;
    const state = stateOf(record);
    if (record && state === 'capture') {
      await saveGrant(deps.store, uploadId, { session_id: record.session_id, session_token: token, handoff }, (record.opened_at ?? Date.now()) + window - Date.now());
      await rememberViewer(ctx, deps.store, token, record.session_id, recordTtlSeconds(record, deps.config.sessionRetentionMs));
    }

    const lang = pickLanguage(record?.language ?? null, ctx.get('accept-language'));
    const t = MESSAGES[lang];
    const url = record ? sessionUrl(deps.config.publicUrl, record) : '';
    const base = `/session/${encodeURIComponent(token)}`;
    const workflow = record ? deps.workflows.get(record.workflow_id) : undefined;
    const config = {
      state,
      // PASSIVE: the page records a burst; FLASHING / ACTIVE_3D: it asks for a challenge (docs/liveness.md).
      liveness: workflow ? livenessMethodOf(workflow) : null,
      // PASSIVE with screen light: the page asks for the light pattern and shows it during the burst.
      screenLight: workflow ? usesScreenLight(workflow) : false,
      challengeUrl: `${base}/challenge`,
      uploadUrl: `${base}/capture`,
      statusUrl: `${base}/status`,
      uploadToken: state === 'capture' ? uploadId : null,
      maxBytes: 1024 * 1024,
      handoff,
      texts: scriptTexts(t),
    };
    await renderVerifierPage(
      ctx,
      'session',
      {
        lang,
        t,
        state,
        sessionUrl: url,
        qr: url ? qrSvg(`${url}?handoff=1`, t.qrLabel) : '',
        handoffUrl: url ? `${url}?handoff=1` : '',
        // Only for the browser that did the capture: the link finishes a sign-in (viewer.ts).
        continueUrl: record && state === 'done' && !handoff && (await isViewer(ctx, deps.store, record.session_id)) ? callbackUrl(record) : null,
        // An enrolment keeps a template; a re-authentication keeps nothing: say which.
        enrolment: workflow?.workflow_type === 'kyc',
        configJson: jsonForHtml(config),
      },
      record ? (state === 'expired' ? 410 : 200) : 404,
    );
  };
}
