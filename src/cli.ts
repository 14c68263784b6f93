#!/usr/bin/env node
// `selfie-idp <command>`: serve, keys, and the operator tools. Exit codes: 0 done, 1 failed,
// 2 bad usage.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { openStore } from './store/index.ts';
import { KeyVault, listSigningKeys, rotateCookieKeys, rotateSigningKeys } from './idp/keys.ts';
import { openKeyCipher } from './idp/key-cipher.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `usage: selfie-idp <command> [options]

commands:
  serve [--port N] [--host H] [--issuer URL] [--redis-url URL] [--data-dir DIR] [--clients-file FILE]
                      run the identity provider (what \`npm start\` runs)
  keys list           list token signing keys (ids, algorithms, status; never private parts)
  keys rotate         one step of key rotation: promote the staged signing key, stage a new one,
                      drop retired keys whose tokens have expired; add a new cookie key
  users enrol --email E [--name N] --image FILE...
                      create (or reuse) the account and enrol its face; prints {"account_id","email"}
  users list          one JSON line per account
  users delete --email E
                      delete the account, its face template and its verification sessions
  users show --email E
                      the account and its face throttle counters, as JSON
  users unlock --email E
                      reset the face throttle (consecutive failed selfies) of the account
  users passkeys --email E
                      the account's passkeys (one JSON line each, no key material)
  users passkey-remove --email E --id ID
                      remove one passkey of the account
  users grant-operator --email E | users revoke-operator --email E
                      give or take the operator role (who may enter the console at /admin)
  audit export [--since DATE] [--json|--csv]
                      the audit log (operator actions, account changes), oldest first
  iplist import --list tor|vpn|datacenter --file FILE
                      validate a CIDR list file and make it the risk policy's list (IP_LISTS_DIR)
  iplist check IP     which of the lists hold an address (JSON)
  compare A B | compare --pairs FILE     compare faces (JSON lines)
  analyze IMG...      detect faces and report pose and quality (JSON lines)
  liveness FILE... [--method PASSIVE|FLASHING|ACTIVE_3D --challenge FILE]
                      presentation-attack signals of images or y4m recordings (JSON lines)
  liveness report [--since DATE] [--workflow ID] [--json]
                      field calibration: liveness score distributions of the stored sessions,
                      the BPCER each threshold gives, the threshold that keeps BPCER <= 2 %

Configuration comes from the environment (see README); flags override it.`;


// Flags are another way to set the documented environment variables, so both pass one validator.
const SERVE_FLAGS = {
  port: 'PORT',
  host: 'HOST',
  issuer: 'ISSUER',
  'redis-url': 'REDIS_URL',
  'data-dir': 'DATA_DIR',
  'clients-file': 'CLIENTS_FILE',
  'log-level': 'LOG_LEVEL',
} as const;

function envFrom(flags: Record<string, string | boolean | undefined>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [flag, name] of Object.entries(SERVE_FLAGS)) {
    const value = flags[flag];
    if (typeof value === 'string') env[name] = value;
  }
  return env;
}

async function serve(args: string[]): Promise<number> {
  const options = Object.fromEntries(Object.keys(SERVE_FLAGS).map((f) => [f, { type: 'string' as const }]));
  const { values } = parseArgs({ args, options, strict: true });
  const env = envFrom(values);
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const started = Date.now();
  const { startStack } = await import('./run.ts');
  const { shutdown } = await import('./shutdown.ts');
  const running = await startStack(config, env, log);
  log.info({ ms: Date.now() - started, discovery: `${config.issuer}/.well-known/openid-configuration` }, 'ready');
  // Plain lines for the person at the terminal, beside the JSON log.
  process.stderr.write(
    [
      '',
      `  selfie-idp is running`,
      `  identity provider   ${config.issuer}   (discovery: ${config.issuer}/.well-known/openid-configuration)`,
      ...(running.verifierUrl ? [`  embedded verifier   ${running.verifierUrl}`] : [`  verification        ${config.verification.mode === 'remote' ? config.verification.baseUrl : ''}`]),
      `  metrics             ${running.idp.metricsUrl}   (Prometheus; not on the public port)`,
      ...(running.relyingPartyUrl ? [`  demo app            ${running.relyingPartyUrl}   ← open this and press "Sign in with selfie"`] : []),
      '',
    ].join('\n') + '\n',
  );
  await new Promise<void>((resolve) => {
    // A second signal while shutting down ends the process at once (the handlers are `once`).
    const stop = (signal: string) => {
      shutdown(running, config.shutdown, log, signal, () => process.exit(1)).then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function keys(args: string[]): Promise<number> {
  const [sub] = args;
  const config = loadConfig();
  if (sub !== 'list' && sub !== 'rotate') throw new UsageError(`keys: expected "list" or "rotate", got ${sub ?? 'nothing'}`);
  if (sub === 'rotate' && (config.jwksFile || config.cookieKeys)) {
    throw new Error('keys rotate: signing or cookie keys are configured from the environment (JWKS_FILE / COOKIE_KEYS); rotate them there');
  }
  const store = await openStore(config);
  try {
    // The stored keys are sealed: the same key as the server's (KEYS_ENCRYPTION_KEY, or the file in DATA_DIR).
    const { cipher, note } = openKeyCipher(config);
    if (note.action === 'generated') console.error(`selfie-idp: GENERATED a new KEYS_ENCRYPTION_KEY in ${note.file} (mode 0600); back it up with DATA_DIR`);
    const vault = new KeyVault(store, cipher);
    if (sub === 'list') {
      for (const key of await listSigningKeys(vault)) console.log(JSON.stringify(key));
    } else {
      // A retired key stays published until every token it signed has expired, plus a margin.
      const retention = Math.max(config.ttl.idToken, config.ttl.accessToken) + 3600;
      const report = await rotateSigningKeys(vault, retention);
      const cookieKeys = await rotateCookieKeys(vault);
      console.log(JSON.stringify({ ...report, cookieKeys, note: 'restart the servers (one at a time) to use the new keys' }));
    }
  } finally {
    await store.close();
  }
  return 0;
}

async function users(args: string[]): Promise<number> {
  const { runUsers } = await import('./idp/users/cli.ts');
  const { embeddedVerifierUsers } = await import('./users-embedded.ts');
  return runUsers(args, embeddedVerifierUsers());
}

async function liveness(args: string[]): Promise<number> {
  if (args[0] === 'report') {
    // Reads the verifier's stored sessions: the verifier's code, composed here at the entry layer.
    const { runLivenessReport } = await import('./verifier/report-cli.ts');
    return runLivenessReport(args.slice(1));
  }
  const { runLiveness } = await import('./liveness/cli.ts');
  return runLiveness(args);
}

async function face(command: 'compare' | 'analyze', args: string[]): Promise<number> {
  const cli = await import('./face/cli.ts');
  return command === 'compare' ? cli.runCompare(args) : cli.runAnalyze(args);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'keys':
        return await keys(rest);
      case 'users':
        return await users(rest);
      case 'audit':
        return await (await import('./idp/audit-cli.ts')).runAudit(rest);
      case 'iplist':
        return await (await import('./risk/cli.ts')).runIpList(rest);
      case 'compare':
      case 'analyze':
        return await face(command, rest);
      case 'liveness':
        return await liveness(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`selfie-idp: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`selfie-idp: ${err.message}`);
      return 1;
    }
    console.error(`selfie-idp: ${(err as Error).message}`);
    return 1;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
