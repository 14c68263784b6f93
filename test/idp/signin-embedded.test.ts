// The sign-in suite against the embedded verifier, over HTTP only, both on the real Redis.
// Outcomes come from real captures: another image of the enrolled person (amy) is Approved,
// someone else (howard) is Declined; an opened page left alone is Abandoned by the verifier's timer.
import { K } from '../../src/verifier/keys.ts';
import { enrolFromImages, lazyFaceEngine } from '../../src/verifier/index.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/env.ts';
import { freePort, startTestServer } from '../helpers/server.ts';
import { api, captureOnce, facePng, openPage, selfieJpeg, startTestVerifier, waitFor } from '../helpers/verifier.ts';
import { defineSigninSuite } from './signin-suite.ts';

defineSigninSuite('sign-in suite against the embedded verifier', async () => {
  const idpPort = await freePort();
  const face = lazyFaceEngine({ poolSize: 1 });
  const v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: `http://127.0.0.1:${idpPort}/webhooks/didit`, VERIFIER_CAPTURE_WINDOW: '1s' } });
  const server = await startTestServer(
    { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('signin-embedded') },
    { port: idpPort, signin: { lookupsPerIpPerHour: 1000 }, verification: { baseUrl: v.url, apiKey: v.clientApiKey, webhookSecret: v.webhookSecret, reauthWorkflowId: v.workflowIds.reauth!, enrolWorkflowId: v.workflowIds.enrol! } },
  );
  const accounts = new Accounts(server.store);
  const adaId = (await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id;
  await enrolFromImages({ store: v.store, face, templateKeyring: v.config.templateKeyring }, adaId, [facePng('amy', 1)]);
  await accounts.markEnrolled(adaId);
  const bobId = (await accounts.create({ email: 'bob@example.com', name: 'Bob' })).account.id;
  await accounts.markEnrolled(bobId);
  const [adaSelfie, otherSelfie] = await Promise.all([selfieJpeg('amy', 2), selfieJpeg('howard', 1)]);

  const sessionId = async (captureUrl: string) => {
    const token = new URL(captureUrl).pathname.split('/').pop()!;
    const id = await v.store.get<string>(K.token(token));
    if (!id) throw new Error(`no verifier session for ${captureUrl}`);
    return id;
  };

  return {
    server,
    captureOrigin: v.publicUrl,
    webhookSecret: v.webhookSecret,
    adaId,
    bobId,
    outcomes: new Set(['Approved', 'Declined', 'Abandoned'] as const),
    decide: async (captureUrl, outcome) => {
      const id = await sessionId(captureUrl);
      if (outcome === 'Abandoned') {
        await openPage(captureUrl);
        await waitFor('Abandoned', async () => (await server.verificationAttempt(id))?.status === 'Abandoned', 8000);
        return;
      }
      const { status, body } = await captureOnce(captureUrl, outcome === 'Approved' ? adaSelfie : otherSelfie);
      if (status !== 200 || body.status !== outcome) throw new Error(`capture gave ${status} ${JSON.stringify(body)}, wanted ${outcome}`);
    },
    session: async (captureUrl) => (await api(v, 'GET', `/v3/session/${await sessionId(captureUrl)}/decision/`)).body,
    operatorApprove: async () => {
      throw new Error('not used: the embedded verifier gives no deterministic In Review here');
    },
    approvesEnrolments: false,
    sessionCount: async () => (await api(v, 'GET', '/v3/sessions/?limit=1')).body.count,
    close: async () => {
      await server.stop();
      await v.stop();
      await face.close();
    },
  };
});
