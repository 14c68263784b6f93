// Verifier configuration as an operator meets it: defaults, generated secrets kept in DATA_DIR
// (0600, stable across restarts), and errors that name the variable. Also the shipped workflows.
import { statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { hashApiKey, loadVerifierConfig } from '../../src/verifier/config.ts';
import { defaultWorkflowIds, usesChallenge } from '../../src/verifier/workflows.ts';
import { configError, tempDir } from '../helpers/env.ts';
import { duplicateThreshold } from '../../src/verifier/capture/screen-face.ts';
import { DEFAULT_THRESHOLDS } from '../../src/face/index.ts';

const tmp = tempDir('verifier-config');
afterAll(() => tmp.remove());
let n = 0;
const dataDir = () => path.join(tmp.dir, `d${n++}`);

function bad(env: Record<string, string>): string {
  return configError(() => loadVerifierConfig({ DATA_DIR: dataDir(), ...env }));
}

function workflowsFile(content: unknown): string {
  const file = path.join(tmp.dir, `wf${n++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('verifier configuration', () => {
  it('defaults: port 3100, public URL from it, the shipped workflows, webhooks retried at 1 and 4 minutes', () => {
    const c = loadVerifierConfig({ DATA_DIR: dataDir() });
    expect(c.port).toBe(3100);
    expect(c.publicUrl).toBe('http://localhost:3100');
    expect(loadVerifierConfig({ DATA_DIR: dataDir(), VERIFIER_PORT: '4100' }).publicUrl).toBe('http://localhost:4100');
    expect(loadVerifierConfig({ DATA_DIR: dataDir(), VERIFIER_PUBLIC_URL: 'https://verify.example.com/' }).publicUrl).toBe('https://verify.example.com');
    expect(c.workflowsFile).toBe(path.join(REPO_ROOT, 'config', 'workflows.json'));
    expect(c.sessionExpiryMs).toBe(7 * 86_400_000);
    expect(c.webhookTimeoutMs).toBe(5000);
    expect(c.webhookRetryDelaysMs).toEqual([60_000, 240_000]);
    expect(c.retainMediaDefault).toBe(false);
    expect(c.rateLimits).toEqual({ create: 600, read: 600, write: 300 });
    expect(c.webhookUrl).toBeUndefined();
    expect(loadVerifierConfig({ DATA_DIR: dataDir() }, { webhookUrl: 'http://localhost:3000/webhooks/didit' }).webhookUrl).toBe('http://localhost:3000/webhooks/didit');
  });

  it('generates the dev API key, webhook secret and template key once, in DATA_DIR with mode 0600', () => {
    const dir = dataDir();
    const first = loadVerifierConfig({ DATA_DIR: dir });
    const file = path.join(dir, 'verifier-secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.secretNotes.map((s) => `${s.variable}:${s.action}`)).toEqual(['VERIFIER_API_KEYS:generated', 'VERIFIER_WEBHOOK_SECRET:generated', 'VERIFIER_TEMPLATE_KEYS:generated']);
    expect(first.devApiKey).toMatch(/^vk_/);
    expect(first.apiKeyHashes).toEqual([hashApiKey(first.devApiKey!)]);
    const again = loadVerifierConfig({ DATA_DIR: dir });
    expect(again.devApiKey).toBe(first.devApiKey);
    expect(again.webhookSecret).toBe(first.webhookSecret);
    expect(again.templateKeyring.keys[again.templateKeyring.current]).toEqual(first.templateKeyring.keys[first.templateKeyring.current]);
    expect(again.secretNotes.every((s) => s.action === 'loaded')).toBe(true);
  });

  it('takes secrets from the environment and then writes nothing; keys are kept only as hashes', () => {
    const dir = dataDir();
    const key = Buffer.alloc(32, 7).toString('base64');
    const c = loadVerifierConfig({
      DATA_DIR: dir,
      VERIFIER_API_KEYS: 'first-key-0123456789, second-key-0123456789',
      VERIFIER_WEBHOOK_SECRET: 'whsec-0123456789abcdef',
      VERIFIER_TEMPLATE_KEYS: `new:${key},old:${Buffer.alloc(32, 1).toString('base64')}`,
    });
    expect(existsSync(path.join(dir, 'verifier-secrets.json'))).toBe(false);
    expect(c.secretNotes).toEqual([]);
    expect(c.devApiKey).toBeUndefined();
    expect(c.apiKeyHashes).toEqual([hashApiKey('first-key-0123456789'), hashApiKey('second-key-0123456789')]);
    expect(JSON.stringify(c)).not.toContain('first-key-0123456789');
    expect(c.templateKeyring.current).toBe('new');
    expect(Object.keys(c.templateKeyring.keys)).toEqual(['new', 'old']);
  });

  it('names the variable and what is wrong', () => {
    expect(bad({ VERIFIER_PORT: 'x' })).toMatch(/VERIFIER_PORT: /);
    expect(bad({ VERIFIER_PUBLIC_URL: 'verify.example.com' })).toMatch(/VERIFIER_PUBLIC_URL: /);
    expect(bad({ VERIFIER_API_KEYS: 'short' })).toMatch(/VERIFIER_API_KEYS: every key must be at least 16/);
    expect(bad({ VERIFIER_WEBHOOK_URL: 'ftp://x' })).toMatch(/VERIFIER_WEBHOOK_URL: /);
    expect(bad({ VERIFIER_WEBHOOK_SECRET: 'short' })).toMatch(/VERIFIER_WEBHOOK_SECRET: must be at least 16/);
    expect(bad({ VERIFIER_TEMPLATE_KEYS: 'nokid' })).toMatch(/VERIFIER_TEMPLATE_KEYS: each entry must be kid:base64key/);
    expect(bad({ VERIFIER_TEMPLATE_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` })).toMatch(/VERIFIER_TEMPLATE_KEYS: key k1 must be 32 bytes/);
    expect(bad({ VERIFIER_SESSION_EXPIRY: 'soon' })).toMatch(/VERIFIER_SESSION_EXPIRY: must be a duration/);
    expect(bad({ VERIFIER_CAPTURE_WINDOW: '2d' })).toMatch(/VERIFIER_CAPTURE_WINDOW: must be between/);
    expect(bad({ VERIFIER_RETAIN_MEDIA: 'sometimes' })).toMatch(/VERIFIER_RETAIN_MEDIA: /);
    expect(bad({ VERIFIER_RATE_LIMITS: 'reads=5' })).toMatch(/VERIFIER_RATE_LIMITS: "reads=5"/);
    expect(bad({ VERIFIER_WEBHOOK_RETRY_DELAYS: '1m,never' })).toMatch(/VERIFIER_WEBHOOK_RETRY_DELAYS: "never"/);
    expect(bad({ VERIFIER_WORKFLOWS_FILE: '/nonexistent/wf.json' })).toMatch(/VERIFIER_WORKFLOWS_FILE: file .* does not exist/);
  });

  it('refuses workflows that cannot work, naming the workflow field', () => {
    const wf = (w: Record<string, unknown>) => bad({ VERIFIER_WORKFLOWS_FILE: workflowsFile({ workflows: [{ workflow_id: 'w', workflow_type: 'biometric_authentication', features: ['FACE_MATCH'], face_match: { review_threshold: 70, decline_threshold: 60 }, ...w }] }) });
    expect(bad({ VERIFIER_WORKFLOWS_FILE: workflowsFile('{nope') })).toMatch(/VERIFIER_WORKFLOWS_FILE: .* is not valid JSON/);
    expect(wf({ features: ['LIVENESS'] })).toMatch(/liveness: required when features include LIVENESS/);
    expect(wf({ face_match: { review_threshold: 50, decline_threshold: 60 } })).toMatch(/face_match: decline_threshold must not be above review_threshold/);
    expect(wf({ features: ['FACE_MATCH', 'LIVENESS'], liveness: { method: 'BLINK', review_threshold: 50, decline_threshold: 30 } })).toMatch(/liveness.method/);
    expect(wf({ workflow_type: 'kyc' })).toMatch(/features: a kyc \(enrolment\) workflow cannot include FACE_MATCH/);
    expect(wf({ features: ['FACE_MATCH', 'LIVENESS'], liveness: { method: 'FLASHING', screen_light: true, review_threshold: 50, decline_threshold: 30 } })).toMatch(/liveness\.screen_light: applies to the PASSIVE method only \(this workflow's method is FLASHING\)/);
    expect(wf({ features: ['FACE_MATCH', 'LIVENESS'], liveness: { method: 'PASSIVE', screen_light: 'yes', review_threshold: 50, decline_threshold: 30 } })).toMatch(/liveness\.screen_light/);
    expect(wf({ features: ['SELFIE_DANCE'] })).toMatch(/VERIFIER_WORKFLOWS_FILE .*features/);
    expect(wf({ auto_decline: ['LOW_FACE_MATCH_SIMILARITY'] })).toMatch(/auto_decline/);
    expect(wf({ duplicate_threshold: 101 })).toMatch(/duplicate_threshold/);
    const dup = { workflow_id: 'same', workflow_type: 'kyc', features: ['IP_ANALYSIS'] };
    expect(bad({ VERIFIER_WORKFLOWS_FILE: workflowsFile({ workflows: [dup, dup] }) })).toMatch(/workflow_id same appears twice/);
  });

  it('the 1:N threshold: duplicate_threshold when set, else the face-match decline threshold, else the default 50', () => {
    const load = (w: Record<string, unknown>) =>
      loadVerifierConfig({ DATA_DIR: dataDir(), VERIFIER_WORKFLOWS_FILE: workflowsFile({ workflows: [{ workflow_id: 'w', ...w }] }) }).workflows[0]!;
    const kyc = { workflow_type: 'kyc', features: ['IP_ANALYSIS'] };
    const signin = { workflow_type: 'biometric_authentication', features: ['FACE_MATCH'], face_match: { review_threshold: 70, decline_threshold: 60 } };
    expect(duplicateThreshold(load({ ...kyc, duplicate_threshold: 64 }))).toBe(64);
    expect(duplicateThreshold(load(kyc))).toBe(DEFAULT_THRESHOLDS.decline);
    expect(duplicateThreshold(load(signin))).toBe(60);
  });

  it('the shipped workflows: sign-in and enrolment, liveness on, media not retained', () => {
    const c = loadVerifierConfig({ DATA_DIR: dataDir() });
    const ids = defaultWorkflowIds(c.workflows);
    const reauth = c.workflows.find((w) => w.workflow_id === ids.reauth)!;
    const enrol = c.workflows.find((w) => w.workflow_id === ids.enrol)!;
    expect(reauth.workflow_type).toBe('biometric_authentication');
    expect(reauth.features).toEqual(['LIVENESS', 'FACE_MATCH', 'IP_ANALYSIS']);
    expect(enrol.workflow_type).toBe('kyc');
    expect(enrol.features).toContain('LIVENESS');
    for (const w of [reauth, enrol]) {
      expect(w.liveness?.method).toBe('PASSIVE');
      expect(w.liveness?.screen_light).toBe(true); // the default
      expect(usesChallenge(w)).toBe(true);
      expect(w.retain_media).toBe(false);
    }
    // after the defaults, a sign-in workflow for each challenge method, for API clients to name
    expect(JSON.parse(readFileSync(c.workflowsFile, 'utf8')).workflows).toHaveLength(4);
    expect(c.workflows.map((w) => [w.workflow_type, w.liveness?.method, w.retain_media])).toEqual([
      ['biometric_authentication', 'PASSIVE', false], ['biometric_authentication', 'FLASHING', false], ['biometric_authentication', 'ACTIVE_3D', false], ['kyc', 'PASSIVE', false],
    ]);
    expect(loadVerifierConfig({ DATA_DIR: dataDir(), VERIFIER_RETAIN_MEDIA: 'true', VERIFIER_WORKFLOWS_FILE: workflowsFile({ workflows: [{ workflow_id: 'k', workflow_type: 'kyc', features: ['IP_ANALYSIS'] }] }) }).workflows[0]!.retain_media).toBe(true);
  });
});
