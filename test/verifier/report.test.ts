// The field calibration report (issue 12, item 4) on a store seeded with known decisions: the
// numbers it prints are the ones the seeded scores give, through the real CLI on the real store.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { fieldReport } from '../../src/verifier/report.ts';
import { saveSession } from '../../src/verifier/sessions/repo.ts';
import type { SessionRecord } from '../../src/verifier/sessions/types.ts';
import { loadWorkflows } from '../../src/verifier/workflows.ts';
import { tempDir } from '../helpers/env.ts';
import { runCli } from '../helpers/cli.ts';

const tmp = tempDir('report');
afterAll(() => tmp.remove());

const WORKFLOWS = {
  workflows: [
    { workflow_id: 'signin', workflow_type: 'biometric_authentication', features: ['LIVENESS', 'FACE_MATCH'], liveness: { method: 'PASSIVE', mode: 'observe', review_threshold: 40, decline_threshold: 20 }, face_match: { review_threshold: 72, decline_threshold: 60 } },
    { workflow_id: 'strict', workflow_type: 'biometric_authentication', features: ['LIVENESS', 'FACE_MATCH'], liveness: { method: 'FLASHING', review_threshold: 50, decline_threshold: 30 }, face_match: { review_threshold: 72, decline_threshold: 60 } },
  ],
};

let n = 0;
function record(workflow: string, method: 'PASSIVE' | 'FLASHING', score: number, face: 'Approved' | 'Declined', createdAt: number, signals: Record<string, number> = {}, risks: string[] = []): SessionRecord {
  n++;
  return {
    session_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, session_number: n, session_token: `tok${String(n).padStart(20, '0')}`,
    workflow_id: workflow, workflow_version: 1, workflow_type: 'biometric_authentication', features: ['LIVENESS', 'FACE_MATCH'],
    vendor_data: `user-${n}`, metadata: null, callback: null, callback_method: 'initiator', language: null, contact_details: null, expected_details: null,
    status: face, created_at: createdAt, expires_at: createdAt + 7 * 86_400_000, opened_at: createdAt, completed_at: createdAt + 1000,
    reference: null, upload_id: null, capture_attempts: 0,
    liveness_checks: [{ node_id: 'liveness_1', status: 'Approved', method, score, reference_image: null, video_url: null, age_estimation: null, face_quality: 80, face_luminance: 50,
      warnings: risks.map((risk) => ({ feature: 'LIVENESS', risk, additional_data: null, log_type: 'warning', short_description: risk, long_description: risk, node_id: 'liveness_1' })) }],
    liveness_signals: signals,
    face_matches: [{ node_id: 'face_match_1', status: face, score: face === 'Approved' ? 90 : 30, source_image_session_id: null, source_image: null, target_image: null, warnings: [] }],
    ip_analyses: null, reviews: [], media: [], pending_template: null,
  } as SessionRecord;
}

const DAY = 86_400_000;
const now = Date.parse('2026-12-04T12:00:00Z');
const records: SessionRecord[] = [];
// PASSIVE: 100 genuine sessions scoring 1..100 (so exactly k % score at or below k), motion 0.01..1;
// 10 others scoring 5 (face match declined), two of them with a warning; 5 genuine sessions 30 days ago scoring 0.
for (let s = 1; s <= 100; s++) records.push(record('signin', 'PASSIVE', s, 'Approved', now - DAY, { motion: s / 100 }, s <= 3 ? ['SCREEN_GLARE'] : []));
for (let i = 0; i < 10; i++) records.push(record('signin', 'PASSIVE', 5, 'Declined', now - DAY, { motion: 0.05 }, i < 2 ? ['DEVICE_BORDER'] : []));
for (let i = 0; i < 5; i++) records.push(record('signin', 'PASSIVE', 0, 'Approved', now - 30 * DAY));
// FLASHING: only 10 genuine sessions, too few for a suggestion.
for (let s = 1; s <= 10; s++) records.push(record('strict', 'FLASHING', 50 + s, 'Approved', now - DAY));

describe('liveness field report', () => {
  const workflowsFile = path.join(tmp.dir, 'workflows.json');
  beforeAll(async () => {
    writeFileSync(workflowsFile, JSON.stringify(WORKFLOWS));
    const store = new SqliteStore(tmp.dir);
    for (const r of records) await saveSession(store, r, 30 * DAY);
    await store.close();
  });

  it('computes BPCER per threshold on the genuine sessions, the configured thresholds and the 2 % suggestion', () => {
    const report = fieldReport(records, loadWorkflows(workflowsFile, false), { since: now - 7 * DAY }, now);
    expect(report.sessions).toBe(120);
    const passive = report.methods.find((m) => m.method === 'PASSIVE')!;
    expect([passive.sessions, passive.genuine, passive.others]).toEqual([110, 100, 10]);
    expect(passive.thresholds.find((t) => t.threshold === 20)).toEqual({ threshold: 20, genuine_at_or_below: 0.2, others_at_or_below: 1 });
    expect(passive.thresholds.find((t) => t.threshold === 0)).toEqual({ threshold: 0, genuine_at_or_below: 0, others_at_or_below: 0 });
    expect(passive.configured).toEqual([{ workflow_id: 'signin', mode: 'observe', review_threshold: 40, decline_threshold: 20, bpcer_review: 0.4, bpcer_decline: 0.2 }]);
    expect(passive.suggested_threshold).toBe(2);
    expect(passive.score.genuine).toMatchObject({ n: 100, min: 1, p2: 2, p5: 5, median: 50, max: 100 });
    expect(passive.signals).toEqual([{ signal: 'motion', genuine: expect.objectContaining({ n: 100, p2: 0.02 }), others: expect.objectContaining({ n: 10, median: 0.05 }), suggested_threshold: 0.02 }]);
    expect(passive.warnings).toEqual([{ risk: 'SCREEN_GLARE', genuine: 3, others: 0 }, { risk: 'DEVICE_BORDER', genuine: 0, others: 2 }]);
    const flashing = report.methods.find((m) => m.method === 'FLASHING')!;
    expect(flashing.suggested_threshold).toBeNull();
    expect(flashing.note).toMatch(/only 10 sessions/);
    // Without --since the old sessions count too.
    expect(fieldReport(records, [], {}, now).methods.find((m) => m.method === 'PASSIVE')!.genuine).toBe(105);
  });

  const cli = (args: string[]) =>
    runCli(['liveness', 'report', ...args], { DATA_DIR: tmp.dir, VERIFIER_WORKFLOWS_FILE: workflowsFile, REDIS_URL: '', LOG_LEVEL: 'silent' });

  it('the CLI reads the store: JSON with --json, a readable table otherwise, filters by date and workflow', async () => {
    const json = await cli(['--json', '--workflow', 'signin', '--since', new Date(now - 7 * DAY).toISOString().slice(0, 10)]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.methods.map((m: { method: string }) => m.method)).toEqual(['PASSIVE']);
    expect(report.methods[0]).toMatchObject({ genuine: 100, others: 10, suggested_threshold: 2 });
    const text = await cli([]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('== PASSIVE: 115 sessions, 105 genuine, 10 other');
    expect(text.stdout).toContain('workflow signin (observe): review 40');
    expect(text.stdout).not.toMatch(/tok0000|user-\d/); // never a token or an account
  });

  it('bad usage exits 2 with the reason', async () => {
    for (const args of [['--since', 'yesterday'], ['--workflow', 'nope'], ['--colour']]) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/liveness report/);
    }
  });
});
