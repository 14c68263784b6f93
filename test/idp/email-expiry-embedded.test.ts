// Accounts never confirmed, with the embedded verifier (what `npm start` runs): the expiry erases
// the face template and the verification sessions at the verifier through the same forget that
// src/run.ts gives the server (forgetVendor on the verifier's store), as `users delete` does.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enrolFromImages, forgetVendor, lazyFaceEngine, loadTemplate } from '../../src/verifier/index.ts';
import type { FaceHandle } from '../../src/verifier/index.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { EXPIRY_SWEEP_LOCK } from '../../src/idp/email/expiry.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/env.ts';
import { startTestServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { api, facePng, startTestVerifier } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';

const DAY = 24 * 3600 * 1000;
let face: FaceHandle;
let v: TestVerifier;
let server: TestServer;
let clockAhead = 0;

beforeAll(async () => {
  face = lazyFaceEngine({ poolSize: 1 });
  v = await startTestVerifier({ face });
  server = await startTestServer(
    { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('email-expiry') },
    {
      verification: { baseUrl: v.url, apiKey: v.clientApiKey, webhookSecret: v.webhookSecret, reauthWorkflowId: v.workflowIds.reauth!, enrolWorkflowId: v.workflowIds.enrol! },
      forgetAtVerifier: (accountId) => forgetVendor(v.store, accountId),
      now: () => Date.now() + clockAhead,
    },
  );
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await v?.stop();
  await face?.close();
});

it('an enrolled account never confirmed loses its template and sessions at the embedded verifier, then itself', async () => {
  const accounts = new Accounts(server.store);
  const { account } = await accounts.create({ email: 'una@example.com', name: 'Una', unverifiedUntil: Date.now() + 7 * DAY });
  await enrolFromImages({ store: v.store, face, templateKeyring: v.config.templateKeyring }, account.id, [facePng('amy', 1)]);
  await accounts.markEnrolled(account.id);
  const opened = await api(v, 'POST', '/v3/session/', { workflow_id: v.workflowIds.reauth, vendor_data: account.id });
  expect(opened.status).toBe(201);
  expect(await loadTemplate(v.store, account.id)).toBeDefined();

  await server.store.delete(EXPIRY_SWEEP_LOCK);
  clockAhead = 8 * DAY;
  try {
    expect(await server.expiry!.runOnce()).toBe(1);
  } finally {
    clockAhead = 0;
  }
  expect(await loadTemplate(v.store, account.id)).toBeUndefined();
  expect((await api(v, 'GET', `/v3/session/${opened.body.session_id}/decision/`)).status).toBe(404);
  expect((await api(v, 'GET', `/v3/sessions/?vendor_data=${account.id}`)).body.count).toBe(0);
  expect(await accounts.findByEmail('una@example.com', { includeErasing: true })).toBeUndefined();
});
