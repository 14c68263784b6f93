// Issue 12: injection signals (VIRTUAL_CAMERA and the workflow's action for it) and observe mode
// (liveness reported, only face match decides), through the real upload endpoint with synthetic
// PASSIVE bursts (renders: test/synthetic) judged by the real face engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { virtualCameraReason } from '../../src/verifier/steps/liveness/camera.ts';
import { api, captureBurst, openPage, portraitB64, startTestVerifier, syntheticBurst } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';

const face = lazyFaceEngine({ poolSize: 1 });
let v: TestVerifier;
beforeAll(async () => {
  await face.warm();
  v = await startTestVerifier({ face });
}, 120_000);
afterAll(async () => {
  await v?.stop();
  await face.close();
});

async function judged(workflow: string, camera: string | null | undefined, kind: 'bona_fide' | 'print_static' = 'bona_fide', seed = 3) {
  const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: workflow, vendor_data: `inj-${workflow}`, portrait_image: await portraitB64('amy', 2) });
  const burst = { ...(await syntheticBurst(kind, seed, 'amy')), ...(camera === undefined ? {} : { camera }) };
  const res = await captureBurst(s.url, burst, await openPage(s.url));
  expect(res.status).toBe(200);
  return (await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body;
}
const vcam = (d: any) => d.liveness_checks[0].warnings.find((w: { risk: string }) => w.risk === 'VIRTUAL_CAMERA');
const obs = JSON.stringify({ label: 'OBS Virtual Camera', readyState: 'live', muted: false });

describe('VIRTUAL_CAMERA', () => {
  it('names what it saw', () => {
    const live = { readyState: 'live', muted: false };
    expect(virtualCameraReason({ label: 'fake_device_0', ...live }, false)).toMatch(/fake camera/);
    expect(virtualCameraReason({ label: '/tmp/selfie-idp-x/amy2.y4m', ...live }, false)).toMatch(/fake camera playing a video file/);
    for (const label of ['OBS Virtual Camera', 'ManyCam Virtual Webcam', 'Snap Camera', 'XSplit VCam', 'e2eSoft VCam', 'Dummy video device (0x0000)']) {
      expect(virtualCameraReason({ label, ...live }, false)).not.toBeNull();
    }
    expect(virtualCameraReason(undefined, false)).toMatch(/no camera report/);
    expect(virtualCameraReason({ label: 'FaceTime HD Camera', readyState: 'ended' }, false)).toMatch(/ended/);
    expect(virtualCameraReason({ label: 'FaceTime HD Camera', ...live }, true)).toMatch(/frozen/);
    for (const label of ['FaceTime HD Camera', 'Integrated Camera (04f2:b6d9)', 'Logitech BRIO', 'HD Pro Webcam C920', 'Front Camera', 'camera2 1, facing front']) {
      expect(virtualCameraReason({ label, ...live }, false)).toBeNull();
    }
  });

  it('a genuine burst from a real webcam is Approved with no VIRTUAL_CAMERA (default action: review)', async () => {
    const d = await judged('vcam-review', undefined);
    expect(d.status).toBe('Approved');
    expect(vcam(d)).toBeUndefined();
  });

  it('the same burst from OBS goes to review by default', async () => {
    const d = await judged('vcam-review', obs);
    expect(d.status).toBe('In Review');
    expect(d.liveness_checks[0].status).toBe('In Review');
    expect(vcam(d)).toMatchObject({ log_type: 'warning', additional_data: { action: 'review', reason: expect.stringMatching(/OBS/) } });
  });

  it('with virtual_camera decline it is Declined; with ignore nothing is said', async () => {
    const declined = await judged('vcam-decline', obs);
    expect(declined.status).toBe('Declined');
    expect(vcam(declined)).toMatchObject({ log_type: 'error', additional_data: { action: 'decline' } });
    const ignored = await judged('reauth-plain', obs);
    expect(ignored.status).toBe('Approved');
    expect(vcam(ignored)).toBeUndefined();
  });

  it('an upload with no camera report at all (a script) goes to review', async () => {
    const d = await judged('vcam-review', null);
    expect(d.status).toBe('In Review');
    expect(vcam(d).additional_data.reason).toMatch(/no camera report/);
  });
});

describe('observe mode', () => {
  it('an attack burst of the right face: liveness reports its low score and warnings, face match decides (Approved)', async () => {
    const enforced = await judged('vcam-review', undefined, 'print_static', 1);
    expect(enforced.liveness_checks[0].status).not.toBe('Approved');
    expect(enforced.status).not.toBe('Approved');
    const d = await judged('observe', undefined, 'print_static', 1);
    expect(d.status).toBe('Approved');
    expect(d.face_matches[0].status).toBe('Approved');
    const live = d.liveness_checks[0];
    expect(live.status).toBe(enforced.liveness_checks[0].status);
    expect(live.score).toBeLessThanOrEqual(50);
    expect(live.warnings.map((w: { risk: string }) => w.risk)).toContain('LIVENESS_OBSERVED');
    expect(live.warnings.find((w: { risk: string }) => w.risk === 'LIVENESS_OBSERVED')).toMatchObject({ log_type: 'information', additional_data: { status: live.status } });
  });

  it('is refused for a workflow without face match (nothing else would decide)', async () => {
    const { loadWorkflows } = await import('../../src/verifier/workflows.ts');
    const { writeFileSync } = await import('node:fs');
    const file = `${v.dataDir}/observe-kyc.json`;
    writeFileSync(file, JSON.stringify({ workflows: [{ workflow_id: 'k', workflow_type: 'kyc', features: ['LIVENESS'], liveness: { method: 'PASSIVE', mode: 'observe', review_threshold: 50, decline_threshold: 30 } }] }));
    expect(() => loadWorkflows(file, false)).toThrow(/liveness\.mode: observe needs FACE_MATCH/);
  });
});
