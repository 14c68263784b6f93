// What `selfie-idp serve` runs: the embedded verifier (unless DIDIT_API_KEY points elsewhere),
// the IdP wired to it over HTTP, and, on a localhost issuer, the demo relying party.
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { startServer } from './server.ts';
import type { RunningServer } from './server.ts';
import { Readiness } from './ops/readiness.ts';
import type { RunningVerifier } from './verifier/index.ts';

export type RunningStack = {
  idp: RunningServer;
  verifierUrl: string | undefined;
  relyingPartyUrl: string | undefined;
  /** One for the IdP and the verifier: draining turns both /readyz to 503 (src/shutdown.ts). */
  readiness: Readiness;
  /** Close everything, work in flight finishing until `deadline` (default: 2 s per part). */
  close: (deadline?: number) => Promise<void>;
};

/** The demo RP runs by default only where it makes sense: a development issuer on localhost. */
export function demoRpPort(env: NodeJS.ProcessEnv, config: Config): number {
  if (env.DEMO_RP_PORT !== undefined && env.DEMO_RP_PORT !== '') {
    const port = Number(env.DEMO_RP_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('DEMO_RP_PORT: must be a port number (0 turns the demo off)');
    return port;
  }
  const host = new URL(config.issuer).hostname;
  return host === 'localhost' || host === '127.0.0.1' ? 3001 : 0;
}

export async function startStack(config: Config, env: NodeJS.ProcessEnv, log: Logger): Promise<RunningStack> {
  const readiness = new Readiness();
  let verifier: RunningVerifier | undefined;
  let idp: RunningServer | undefined;
  let rp: { close: () => Promise<void> } | undefined;
  const step = (name: string, close: () => Promise<void>) => close().catch((err: unknown) => log.error({ err, step: name }, 'error while shutting down'));
  // Each side needs the other until its own work is done: the verifier's webhook jobs are
  // delivered to this IdP, and the IdP's requests in flight call this verifier. So: jobs first
  // (the IdP still listens), then the IdP's requests (the verifier still listens), then the verifier's.
  const closeAll = async (deadline?: number) => {
    if (verifier) await step('verifier jobs', () => verifier!.stopJobs(deadline));
    if (idp) await step('identity provider', () => idp!.close(deadline));
    if (verifier) await step('verifier', () => verifier!.close(deadline));
    if (rp) await step('demo relying party', () => rp!.close());
  };
  try {
    let verification: NonNullable<Parameters<typeof startServer>[2]> = { readiness };
    let verifierUrl: string | undefined;
    if (config.verification.mode === 'embedded') {
      const { loadVerifierConfig, startVerifier, forgetVendor } = await import('./verifier/index.ts');
      // The verifier reaches the IdP's webhook receiver directly, not through the public issuer URL.
      const verifierConfig = loadVerifierConfig(env, { webhookUrl: `http://127.0.0.1:${config.port}/webhooks/didit` });
      verifier = await startVerifier(verifierConfig, log.child({ component: 'verifier' }), { readiness });
      if (!verifier.workflowIds.reauth || !verifier.workflowIds.enrol) {
        throw new Error(`VERIFIER_WORKFLOWS_FILE: needs a biometric_authentication and a kyc workflow (${verifierConfig.workflowsFile})`);
      }
      verifierUrl = verifier.publicUrl;
      const verifierStore = verifier.deps.store;
      verification = {
        readiness,
        verification: {
          baseUrl: verifier.url.replace('//localhost:', '//127.0.0.1:'),
          apiKey: verifier.clientApiKey,
          webhookSecret: verifier.webhookSecret,
          reauthWorkflowId: verifier.workflowIds.reauth,
          enrolWorkflowId: verifier.workflowIds.enrol,
          challengeWorkflowIds: verifier.workflowIds.challenge,
        },
        // Erasure (users delete, the console, the account page, unconfirmed accounts' expiry): the
        // embedded verifier's own forget of template and sessions.
        forgetAtVerifier: (accountId) => forgetVendor(verifierStore, accountId),
      };
    }
    idp = await startServer(config, log, verification);

    let relyingPartyUrl: string | undefined;
    const rpPort = demoRpPort(env, config);
    if (rpPort) {
      // A dev tool: openid-client is a devDependency, so it is loaded only when the demo runs.
      const { startRelyingParty } = await import('../examples/relying-party/server.ts');
      // On the IdP's listen address: HOST=127.0.0.1 keeps the demo off the network too.
      const demo = await startRelyingParty({ issuer: config.issuer, port: rpPort, clientId: 'demo-rp', host: config.host });
      rp = demo;
      relyingPartyUrl = demo.url;
    }
    return { idp, verifierUrl, relyingPartyUrl, readiness, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
