// Enrolled faces: one sealed template per vendor_data (an account), written by an Approved kyc
// session or by the operator CLI, read by biometric_authentication sessions that bring no
// portrait_image. Only the AES-GCM sealed template is stored, never an image.
import { CLI_MAX_BYTES, compare, enrolTemplate, openTemplate, sealTemplate } from '../face/index.ts';
import type { FaceAnalysis, FaceTemplate } from '../face/index.ts';
import type { Store } from '../store/index.ts';
import type { TemplateKeyring } from './config.ts';
import type { FacePort } from './face-port.ts';
import { K } from './keys.ts';
import { faceRemoved, faceStored } from './faces/changes.ts';

export type StoredTemplate = {
  sealed: string;
  /** The kyc session it came from; null when enrolled by the operator from files. */
  source_session_id: string | null;
  images: number;
  created_at: string;
};

export async function saveTemplate(store: Store, keyring: TemplateKeyring, vendorData: string, analyses: FaceAnalysis[], sourceSessionId: string | null): Promise<StoredTemplate> {
  const template = enrolTemplate(analyses);
  const record: StoredTemplate = {
    sealed: sealTemplate(template, keyring),
    source_session_id: sourceSessionId,
    images: analyses.length,
    created_at: template.created,
  };
  // Durable on purpose: an enrolment lasts until the account is deleted or re-enrolled.
  await store.set(K.template(vendorData), record);
  await faceStored(store, 'enrolled', vendorData);
  return record;
}

/**
 * An enrolment (kyc) session's template, set-if-absent: null when the vendor_data already has a
 * face (another enrolment, or the operator's, came first). Sign-up never replaces an enrolled
 * face: the first wins, and re-enrolment needs the old one deleted (the operator's reset).
 */
export async function claimTemplate(store: Store, keyring: TemplateKeyring, vendorData: string, analyses: FaceAnalysis[], sourceSessionId: string): Promise<StoredTemplate | null> {
  const template = enrolTemplate(analyses);
  const record: StoredTemplate = { sealed: sealTemplate(template, keyring), source_session_id: sourceSessionId, images: analyses.length, created_at: template.created };
  if (!(await store.setIfAbsent(K.template(vendorData), record))) return null;
  await faceStored(store, 'enrolled', vendorData);
  return record;
}

/** Undo a claim whose verdict could not be stored (the capture window closed meanwhile). */
export async function releaseTemplate(store: Store, vendorData: string, sourceSessionId: string): Promise<void> {
  const stored = await loadTemplate(store, vendorData);
  if (stored?.source_session_id !== sourceSessionId) return;
  await store.delete(K.template(vendorData));
  await faceRemoved(store, 'enrolled', vendorData);
}

export async function loadTemplate(store: Store, vendorData: string): Promise<StoredTemplate | undefined> {
  return store.get<StoredTemplate>(K.template(vendorData));
}

/** Opens (decrypts and checks the model of) a stored template; throws FaceError TEMPLATE_*. */
export function openStoredTemplate(stored: StoredTemplate, keyring: TemplateKeyring): FaceTemplate {
  return openTemplate(stored.sealed, keyring);
}

export async function deleteTemplate(store: Store, vendorData: string): Promise<boolean> {
  const deleted = (await store.delete(K.template(vendorData))) > 0;
  // Logged even when there was nothing to delete: an instance that still holds it drops it.
  await faceRemoved(store, 'enrolled', vendorData);
  return deleted;
}

export class EnrolmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrolmentError';
  }
}

export type EnrolDeps = { store: Store; face: FacePort; templateKeyring: TemplateKeyring };

/**
 * Enrol a face for `vendorData` straight from image files (the operator CLI,
 * `selfie-idp users enrol`). Every image must show the same one face clearly; a FaceError from the
 * engine (NO_FACE_DETECTED, LOW_QUALITY, ...) is thrown as is, and nothing is stored.
 */
export async function enrolFromImages(deps: EnrolDeps, vendorData: string, images: Uint8Array[]): Promise<StoredTemplate> {
  if (!vendorData) throw new TypeError('enrolFromImages: vendorData is required');
  if (images.length === 0) throw new TypeError('enrolFromImages: at least one image is required');
  const analyses: FaceAnalysis[] = [];
  // One at a time: the CLI runs beside a live server and should not take the whole pool.
  for (const image of images) analyses.push(await deps.face.analyze(image, { maxBytes: CLI_MAX_BYTES }));
  // A template averaged over two people would match both of them a little: refuse the mix.
  for (let i = 1; i < analyses.length; i++) {
    if (compare(analyses[0]!, analyses[i]!).decision === 'Declined') {
      throw new EnrolmentError(`image ${i + 1} does not show the same person as image 1`);
    }
  }
  return saveTemplate(deps.store, deps.templateKeyring, vendorData, analyses, null);
}

