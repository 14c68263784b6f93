// Start-up, in the order that fails fastest: config is already valid; then the store (a dead
// REDIS_URL stops us here), keys, clients, the provider, and finally the listening socket.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { closeGracefully, listen } from './http/listen.ts';
import type Provider from 'oidc-provider';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createApp } from './idp/app.ts';
import { Accounts } from './idp/accounts.ts';
import { Attempts } from './idp/signin/attempts.ts';
import { FaceThrottle } from './idp/signin/throttle.ts';
import { DeviceHistory } from './idp/signin/risk.ts';
import { IpLists } from './risk/ip-lists.ts';
import { Passkeys } from './idp/passkeys/passkeys.ts';
import { PortraitVault } from './idp/signin/portraits.ts';
import { createVerification } from './idp/signin/verification.ts';
import type { VerificationSettings } from './idp/signin/verification.ts';
import { loadClients } from './idp/clients.ts';
import { KeyVault, loadCookieKeys, loadSigningKeys } from './idp/keys.ts';
import { announceKeyCipher, openKeyCipher } from './idp/key-cipher.ts';
import { createProvider, validateClients } from './idp/provider.ts';
import { createMetrics, instrumentStore } from './ops/metrics.ts';
import { startMetricsServer } from './ops/metrics-server.ts';
import { openStore } from './store/index.ts';
import { checkDataDir } from './store/data-dir.ts';
import { Readiness } from './ops/readiness.ts';
import type { Store } from './store/index.ts';
import { openMailer } from './idp/email/mailer.ts';
import { EmailVerification } from './idp/email/verification.ts';
import { unverifiedExpiry } from './idp/email/expiry.ts';
import type { ExpirySweep } from './idp/email/expiry.ts';
import { CONSOLE_CLIENT_ID, consoleClientMetadata } from './idp/admin/client.ts';
import { SigninHistory } from './idp/signin/history.ts';
import { forgetOverContract } from './idp/erasure.ts';
import type { ForgetAtVerifier } from './idp/erasure.ts';

export type RunningServer = {
  url: string;
  metricsUrl: string;
  server: Server;
  store: Store;
  provider: Provider;
  /** The erasure of accounts never confirmed; undefined when the verifier cannot be made to forget (see forgetAtVerifier). */
  expiry: ExpirySweep | undefined;
  readiness: Readiness;
  /** Stop accepting, finish requests in flight (until `deadline`; default 2 s), close the store. */
  close: (deadline?: number) => Promise<void>;
};

export type ServerOptions = {
  /** Where the verification service is; required when config.verification.mode is 'embedded'. */
  verification?: Omit<VerificationSettings, 'portraits'>;
  /** The clock of time-based sign-in rules (face throttling waits); tests move it instead of sleeping. */
  now?: () => number;
  /**
   * Embedded verifier only: how it forgets an account (template, sessions), given by the entry
   * layer (run.ts) as the IdP imports nothing from src/verifier. Without it erasure goes over the
   * v3 contract (the account's sessions deleted one by one), and unconfirmed accounts are not
   * expired (said at start).
   */
  forgetAtVerifier?: ForgetAtVerifier;
  /** Shared with the verifier beside it (`selfie-idp serve`): one drain turns both /readyz to 503. */
  readiness?: Readiness;
};

function verificationSettings(config: Config, store: Store, options: ServerOptions): VerificationSettings {
  if (config.verification.mode === 'remote') {
    const { portraitKey, mode: _mode, ...remote } = config.verification;
    if (!portraitKey) throw new Error('PORTRAIT_KEY: required when DIDIT_API_KEY is set (the IdP keeps the enrolment portrait for the service, encrypted under this key)');
    return { ...remote, portraits: new PortraitVault(store, portraitKey) };
  }
  if (!options.verification) throw new Error('no verification service: start the embedded verifier or set DIDIT_API_KEY');
  return { ...options.verification, portraits: undefined };
}

export async function startServer(config: Config, log: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const metrics = createMetrics();
  // Before the store opens: a tightened database file gives new -wal/-shm files its mode.
  checkDataDir(config.dataDir, log);
  const store = instrumentStore(await openStore(config), metrics);
  log.info({ store: store.description }, store.shared ? 'store: redis (shared, multi-instance)' : 'store: embedded, single node only — set REDIS_URL to run more than one instance');

  try {
    // Keys kept in the store are sealed; the cipher is needed (and, on a single node, its key file
    // generated) only when some of them are.
    let vault: KeyVault | undefined;
    if (!config.jwksFile || !config.cookieKeys) {
      const { cipher, note } = openKeyCipher(config);
      announceKeyCipher(cipher, note, log);
      vault = new KeyVault(store, cipher);
    }
    const signing = await loadSigningKeys(vault, config.jwksFile);
    const cookies = await loadCookieKeys(vault, config.cookieKeys);
    if (signing.migrated || cookies.migrated) {
      log.warn({ signing: signing.migrated, cookies: cookies.migrated }, 'keys in the store were unencrypted (written by an older version): encrypted them in place');
    }
    if (signing.generated) log.warn({ source: signing.source }, 'GENERATED NEW TOKEN SIGNING KEYS (RS256, ES256) on first start and stored them; set JWKS_FILE to manage them yourself');
    else log.info({ source: signing.source, kids: signing.jwks.keys.map((k) => k.kid) }, 'signing keys loaded');
    if (cookies.generated) log.warn({ source: cookies.source }, 'GENERATED NEW COOKIE KEYS on first start and stored them; set COOKIE_KEYS or COOKIE_KEYS_FILE in production');

    const fileClients = loadClients(config.clientsFile);
    if (fileClients.some((c) => c.client_id === CONSOLE_CLIENT_ID)) throw new Error(`CLIENTS_FILE: client_id "${CONSOLE_CLIENT_ID}" is the operator console's own; choose another`);
    // The operator console signs in through this provider as an internal client (admin/client.ts).
    const clients = [...fileClients, consoleClientMetadata(config.issuer, cookies.keys[0]!)];
    const provider = createProvider({ config, store, jwks: signing.jwks, cookieKeys: cookies.keys, clients });
    await validateClients(provider, clients);
    provider.on('server_error', (_ctx, err) => log.error({ err }, 'oidc-provider server_error'));

    const accounts = new Accounts(store);
    const throttle = new FaceThrottle(store, config.throttle, options.now);
    const ipLists = new IpLists(config.ipListsDir, { checkEveryMs: config.risk.ipListsReloadSeconds * 1000, onError: (message) => log.warn(message) });
    log.info({ dir: config.ipListsDir, entries: ipLists.sizes() }, 'IP lists (risk policy)');
    const risk = { settings: config.risk, devices: new DeviceHistory(store, config.risk.maxDevicesPerAccount), ipLists };
    const verification = createVerification(
      verificationSettings(config, store, options),
      new Attempts(store, throttle),
      accounts,
      config.issuer,
      { maxAttempts: config.signin.maxAttempts, bindingTtlSeconds: config.signin.sessionBindingDays * 24 * 3600 },
      { throttle, risk, perIp: store.rateLimiter('idp:verification', { points: config.signin.verificationsPerIpPerHour, durationSeconds: 3600 }) },
    );
    log.info({ mode: config.verification.mode, baseUrl: verification.settings.baseUrl }, 'verification service');
    const passkeys = new Passkeys(store, config.issuer);
    const mailer = openMailer(config, log);
    if (config.mail.smtpUrl) log.info({ mail: mailer.description, from: config.mail.from }, 'mail: address confirmation links go out by SMTP');
    else log.warn({ mail: mailer.description }, 'mail: SMTP_URL unset, mails are NOT sent: they are written to DATA_DIR/outbox and to this log, links included (development only; set SMTP_URL and MAIL_FROM)');
    const emails = new EmailVerification({ store, accounts, mailer, config, log, now: options.now });
    verification.afterEnrolment = (accountId) => emails.afterEnrolment(accountId);
    const history = new SigninHistory(store, config.admin.signinHistoryLength);
    // Erasure (console, account page, users delete) and the expiry of unconfirmed accounts.
    const forget: ForgetAtVerifier =
      options.forgetAtVerifier ?? forgetOverContract(verification.client, store, config.verification.mode === 'remote' ? config.verification.portraitKey : undefined);
    const expiryForget = config.verification.mode === 'remote' ? forget : options.forgetAtVerifier;
    const expiry = expiryForget ? unverifiedExpiry({ config, store, accounts, forget: expiryForget, log, now: options.now }) : undefined;
    if (!expiry) log.warn('unconfirmed accounts are not expired: no way to make the embedded verifier forget them was given');
    const readiness = options.readiness ?? new Readiness();
    let listening: string | undefined;
    const app = createApp({ config, store, provider, log, metrics, cookieKeys: cookies.keys, accounts, verification, passkeys, emails, history, forget, internalUrl: () => listening, readiness });
    const metricsServer = await startMetricsServer(metrics.registry, config.metrics.port, config.metrics.host);
    log.info({ url: metricsServer.url }, 'metrics listening (Prometheus scrape target; not served on the public port)');
    const server = createServer(app.callback());
    readiness.closeConnectionsWhileDraining(server);
    let url: string;
    try {
      url = await listen(server, config.port, config.host);
    } catch (err) {
      await metricsServer.close();
      throw err;
    }
    listening = url;
    log.info({ url, issuer: config.issuer, clients: clients.map((c) => c.client_id) }, 'selfie-idp listening');

    return {
      url,
      metricsUrl: metricsServer.url,
      server,
      store,
      provider,
      expiry,
      readiness,
      close: async (deadline) => {
        expiry?.stop();
        mailer.close();
        await Promise.all([closeGracefully(server, deadline), metricsServer.close()]);
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
