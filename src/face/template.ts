/**
 * Face templates: the only biometric data kept (never the image). Versioned by model so that an
 * embedding from another model is never compared blindly, and sealed with AES-256-GCM under a
 * template key (its own keyring, separate from token signing keys) with a key id for rotation.
 *
 * Sealed format (ASCII): `ft1.<kid>.<iv b64url>.<ciphertext+tag b64url>`; the prefix `ft1.<kid>` is
 * authenticated as additional data, so a kid cannot be swapped.
 */
import { l2normalise } from './vector.ts';
import crypto from 'node:crypto';
import { FaceError } from './errors.ts';
import { EMBEDDING_SIZE, MODEL } from './model.ts';
import type { FaceAnalysis, ModelInfo, Quality } from './types.ts';

export interface FaceTemplate {
  /** Format version of the template record. */
  v: 1;
  model: ModelInfo;
  /** L2-normalised mean of the enrolled embeddings. */
  embedding: Float32Array;
  /** ISO 8601 creation time. */
  created: string;
  /** Quality of the enrolment images: per-measure minimum (worst case), plus how many images. */
  quality: Quality & { images: number };
}

export interface TemplateKeyring {
  /** Key id used to seal new templates. */
  current: string;
  /** All keys that may open templates, by key id; each 32 bytes. */
  keys: Record<string, Uint8Array>;
}

const PREFIX = 'ft1';
const KID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Average the normalised embeddings of one or more analyses of the same person into a template. */
export function enrolTemplate(analyses: readonly FaceAnalysis[], now: Date = new Date()): FaceTemplate {
  if (!analyses.length) throw new FaceError('TEMPLATE_INVALID', 'enrolment needs at least one analysed image');
  const sum = new Float64Array(EMBEDDING_SIZE);
  for (const a of analyses) {
    if (a.model.id !== MODEL.id || a.model.version !== MODEL.version) {
      throw new FaceError('TEMPLATE_MODEL_MISMATCH', 'analysis made by another model version');
    }
    const e = l2normalise(a.embedding);
    for (let i = 0; i < EMBEDDING_SIZE; i++) sum[i]! += e[i]!;
  }
  const q = analyses.map((a) => a.face.quality);
  const min = (k: keyof Quality): number => Math.min(...q.map((x) => x[k]));
  return {
    v: 1,
    model: { id: MODEL.id, version: MODEL.version },
    embedding: l2normalise(sum),
    created: now.toISOString(),
    quality: {
      brightness: min('brightness'),
      contrast: min('contrast'),
      sharpness: min('sharpness'),
      faceSize: min('faceSize'),
      centred: min('centred'),
      images: analyses.length,
    },
  };
}

/** Throws TEMPLATE_MODEL_MISMATCH unless the template was made by the current model. */
export function assertCurrentModel(t: { model: ModelInfo }): void {
  if (t.model?.id !== MODEL.id || t.model?.version !== MODEL.version) {
    throw new FaceError('TEMPLATE_MODEL_MISMATCH',
      `template made by ${t.model?.id}@${t.model?.version}, engine is ${MODEL.id}@${MODEL.version}: re-enrolment needed`);
  }
}

function keyFor(keyring: TemplateKeyring, kid: string): Buffer {
  const key = Object.hasOwn(keyring.keys, kid) ? keyring.keys[kid] : undefined;
  if (!key) throw new FaceError('TEMPLATE_KEY_UNKNOWN', `template key ${kid} is not in the keyring`);
  if (key.byteLength !== 32) throw new FaceError('TEMPLATE_KEY_UNKNOWN', `template key ${kid} is not 32 bytes`);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** Encrypt a template under the keyring's current key. */
export function sealTemplate(t: FaceTemplate, keyring: TemplateKeyring): string {
  const kid = keyring.current;
  if (!KID_RE.test(kid)) throw new FaceError('TEMPLATE_KEY_UNKNOWN', 'invalid key id');
  const key = keyFor(keyring, kid);
  if (t.embedding.length !== EMBEDDING_SIZE) throw new FaceError('TEMPLATE_INVALID', 'embedding has the wrong size');
  const payload = JSON.stringify({
    v: t.v,
    model: t.model,
    embedding: Buffer.from(Float32Array.from(t.embedding).buffer).toString('base64'),
    created: t.created,
    quality: t.quality,
  });
  const iv = crypto.randomBytes(12);
  const aad = Buffer.from(`${PREFIX}.${kid}`);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}.${kid}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
}

/** Key id a sealed template was sealed with (no decryption), or undefined if malformed. */
export function templateKeyId(sealed: string): string | undefined {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  return parts.length === 4 && parts[0] === PREFIX && KID_RE.test(parts[1]!) ? parts[1] : undefined;
}

/**
 * Decrypt and validate a sealed template. TEMPLATE_INVALID when malformed or tampered with,
 * TEMPLATE_KEY_UNKNOWN when its key id is not in the keyring, TEMPLATE_MODEL_MISMATCH when it was made
 * by another model version (re-enrolment needed).
 */
export function openTemplate(sealed: string | Uint8Array, keyring: TemplateKeyring): FaceTemplate {
  const text = typeof sealed === 'string' ? sealed : Buffer.from(sealed).toString('utf8');
  const parts = text.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX || !KID_RE.test(parts[1]!)) {
    throw new FaceError('TEMPLATE_INVALID', 'not a sealed face template');
  }
  const kid = parts[1]!;
  const key = keyFor(keyring, kid);
  const iv = Buffer.from(parts[2]!, 'base64url');
  const blob = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== 12 || blob.length < 17) throw new FaceError('TEMPLATE_INVALID', 'sealed template truncated');
  let plain: string;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(`${PREFIX}.${kid}`));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    plain = Buffer.concat([decipher.update(blob.subarray(0, blob.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new FaceError('TEMPLATE_INVALID', 'sealed template failed authentication');
  }
  let raw: { v?: unknown; model?: ModelInfo; embedding?: unknown; created?: unknown; quality?: unknown };
  try {
    raw = JSON.parse(plain) as typeof raw;
  } catch {
    throw new FaceError('TEMPLATE_INVALID', 'template payload is not JSON');
  }
  if (raw.v !== 1 || typeof raw.embedding !== 'string' || typeof raw.created !== 'string' || !raw.model || typeof raw.quality !== 'object') {
    throw new FaceError('TEMPLATE_INVALID', 'template payload malformed');
  }
  assertCurrentModel({ model: raw.model });
  const bytes = Buffer.from(raw.embedding, 'base64');
  if (bytes.length !== EMBEDDING_SIZE * 4) throw new FaceError('TEMPLATE_INVALID', 'template embedding has the wrong size');
  const embedding = new Float32Array(EMBEDDING_SIZE);
  new Uint8Array(embedding.buffer).set(bytes);
  return {
    v: 1,
    model: { id: raw.model.id, version: raw.model.version },
    embedding,
    created: raw.created,
    quality: raw.quality as FaceTemplate['quality'],
  };
}

