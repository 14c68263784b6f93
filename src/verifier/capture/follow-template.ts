// Step 8 (biometric_authentication): an Approved sign-in against the enrolled template keeps that
// template current. A template of the previous face model is re-enrolled with this capture's
// current-model embedding (migration: no image is kept, so this is the only way to upgrade it); a
// current one folds the capture in when the score is high (drift, bounded: face/template.ts DRIFT).
// Never after a review, a decline or a match against a portrait_image; a failure here is logged and
// never changes the sign-in's outcome.
import { foldIntoTemplate, isLegacyTemplate, migrateTemplate, openTemplate, sealTemplate } from '../../face/index.ts';
import type { FaceAnalysis } from '../../face/index.ts';
import type { VerifierDeps } from '../deps.ts';
import type { JsonObject } from '../../store/index.ts';
import { K } from '../keys.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { loadTemplate, type StoredTemplate } from '../templates.ts';
import { ensureFaceKnown, faceStored } from '../faces/changes.ts';

export async function followTemplate(deps: Pick<VerifierDeps, 'store' | 'config' | 'log'>, record: SessionRecord, analysis: FaceAnalysis): Promise<'migrated' | 'folded' | null> {
  if (record.workflow_type !== 'biometric_authentication' || record.status !== 'Approved') return null;
  if (record.vendor_data === null || record.reference !== null) return null;
  const match = record.face_matches?.[0];
  if (!match || match.status !== 'Approved' || match.score === null) return null;
  try {
    const stored = await loadTemplate(deps.store, record.vendor_data);
    if (!stored) return null;
    // Enrolled before the 1:N index existed: it joins the index now.
    await ensureFaceKnown(deps.store, 'enrolled', record.vendor_data);
    const keyring = deps.config.templateKeyring;
    const template = openTemplate(stored.sealed, keyring);
    const legacy = isLegacyTemplate(template);
    const next = legacy
      ? migrateTemplate(template, analysis, { decision: 'Approved' })
      : foldIntoTemplate(template, analysis, { decision: 'Approved', score: match.score });
    if (!next) return null;
    const updated: StoredTemplate = {
      ...stored,
      sealed: sealTemplate(next, keyring),
      ...(legacy ? { source_session_id: record.session_id, images: 1, created_at: next.created } : {}),
    };
    // patch, not set: an account erased meanwhile must not get its template back.
    if (await deps.store.patch(K.template(record.vendor_data), updated as unknown as JsonObject)) await faceStored(deps.store, 'enrolled', record.vendor_data);
    return legacy ? 'migrated' : 'folded';
  } catch (err) {
    deps.log.warn({ session_id: record.session_id, err: err instanceof Error ? err.message : String(err) }, 'enrolled face template not updated after sign-in');
    return null;
  }
}
