// Start-up of the verifier: store, face engine (warming in the background), durable queue, HTTP.
// `selfie-idp serve` runs it beside the IdP in the same process by default; the IdP still talks
// to it only over HTTP, with the per-process key returned here.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { closeGracefully } from '../http/listen.ts';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/index.ts';
import { createVerifierApp } from './app.ts';
import { hashApiKey } from './config.ts';
import type { VerifierConfig } from './config.ts';
import type { VerifierDeps } from './deps.ts';
import { lazyFaceEngine } from './face-port.ts';
import type { FaceHandle, FacePort } from './face-port.ts';
import { JobQueue } from './queue/jobs.ts';
import { ABANDON_JOB, EXPIRE_JOB, abandonmentTimer, expiryTimer } from './queue/timers.ts';
import { WEBHOOK_JOB, webhookDelivery } from './queue/webhooks.ts';
import { defaultWorkflowIds } from './workflows.ts';
import { IpLists } from '../risk/ip-lists.ts';
import { FaceSearchIndex } from './faces/search-index.ts';
import { Readiness } from '../ops/readiness.ts';

export type RunningVerifier = {
  /** Where this process listens (http://host:port). */
  url: string;
  /** VERIFIER_PUBLIC_URL: the base of session URLs. */
  publicUrl: string;
  /** A key accepted by this process only, for the in-process IdP's DiditClient. Never persisted. */
  clientApiKey: string;
  webhookSecret: string;
  /** The first biometric_authentication and kyc workflows of the workflows file. */
  workflowIds: ReturnType<typeof defaultWorkflowIds>;
  deps: VerifierDeps;
  /** Stop taking jobs; running ones finish by `deadline` or are released to other instances. */
  stopJobs: (deadline?: number) => Promise<void>;
  /** Stop jobs, stop accepting, finish requests in flight (until `deadline`), close what it opened. */
  close: (deadline?: number) => Promise<void>;
};

export type StartVerifierOptions = {
  /** Share a store (tests, or the IdP's own); otherwise one is opened from the config and closed with the verifier. */
  store?: Store;
  /** Share a face engine (tests: one per file); otherwise one is started and closed with the verifier. */
  face?: FacePort;
  /** Shared with the IdP beside it (`selfie-idp serve`): one drain turns both /readyz to 503. */
  readiness?: Readiness;
};

function announceSecrets(config: VerifierConfig, log: Logger): void {
  for (const note of config.secretNotes) {
    const what = note.action === 'generated' ? 'GENERATED' : 'using the generated';
    log.warn({ variable: note.variable, file: note.file }, `verifier: ${note.variable} is unset: ${what} value kept in ${note.file}; set ${note.variable} in production (and on every instance)`);
  }
  if (config.devApiKey) log.warn({ file: config.secretNotes.find((n) => n.variable === 'VERIFIER_API_KEYS')?.file }, 'verifier: API clients other than this IdP use the dev API key from that file (field api_key)');
  if (!config.webhookUrl) log.warn('verifier: no VERIFIER_WEBHOOK_URL: status webhooks are not sent (the decision endpoint still answers)');
}

export async function startVerifier(config: VerifierConfig, log: Logger, options: StartVerifierOptions = {}): Promise<RunningVerifier> {
  const ownStore = !options.store;
  const store = options.store ?? (await openStore(config));
  const ownFace = !options.face;
  const face: FacePort = options.face ?? lazyFaceEngine(config.facePoolSize ? { poolSize: config.facePoolSize } : {});
  if (ownFace) {
    // Start loading the models now so the first selfie is not slow, without delaying start-up.
    (face as FaceHandle).warm().then(
      () => log.info('verifier: face engine ready'),
      (err: unknown) => log.error({ err }, 'verifier: face engine failed to start; will retry on the next image'),
    );
  }

  const queue = new JobQueue(store, log, { pollMs: config.queuePollMs, claimMs: config.queueClaimMs, retentionMs: config.sessionRetentionMs });
  const clientApiKey = `vk_embedded_${randomBytes(24).toString('base64url')}`;
  const deps: VerifierDeps = {
    config,
    store,
    log,
    face,
    faces: new FaceSearchIndex(store, config.templateKeyring, { log }),
    queue,
    workflows: new Map(config.workflows.map((w) => [w.workflow_id, w])),
    apiKeyHashes: [...config.apiKeyHashes, hashApiKey(clientApiKey)],
    ipLists: new IpLists(config.ipListsDir, { onError: (message) => log.warn(message) }),
    readiness: options.readiness ?? new Readiness(),
  };
  announceSecrets(config, log);
  // Decrypts every enrolled and blocklisted face once, in the background; a search waits for it.
  deps.faces.start().catch((err: unknown) => log.error({ err }, 'verifier: face index could not be built; the next search retries'));

  const server = createServer(createVerifierApp(deps).callback());
  deps.readiness!.closeConnectionsWhileDraining(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    if (ownFace) await (face as FaceHandle).close();
    if (ownStore) await store.close();
    throw err;
  }
  queue.start({ [WEBHOOK_JOB]: webhookDelivery(config, log), [EXPIRE_JOB]: expiryTimer(deps), [ABANDON_JOB]: abandonmentTimer(deps) });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, publicUrl: config.publicUrl, workflows: config.workflows.map((w) => `${w.workflow_id} (${w.workflow_type})`), webhookUrl: config.webhookUrl ?? null }, 'verifier listening');

  return {
    url,
    publicUrl: config.publicUrl,
    clientApiKey,
    webhookSecret: config.webhookSecret,
    workflowIds: defaultWorkflowIds(config.workflows),
    deps,
    stopJobs: (deadline) => queue.stop(deadline),
    close: async (deadline) => {
      // Jobs in flight finish (or their claims are released); pending ones stay in the store.
      await queue.stop(deadline);
      await closeGracefully(server, deadline);
      deps.faces.stop();
      if (ownFace) await (face as FaceHandle).close();
      if (ownStore) await store.close();
    },
  };
}
