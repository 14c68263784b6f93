// Several full instances (`selfie-idp serve` child processes, each IdP + embedded verifier) on one
// Redis, behind a real haproxy that balances every request round-robin (no stickiness): one
// frontend for the IdP (ISSUER) and one for the verifier (VERIFIER_PUBLIC_URL). Used by the
// scale-out tests (test/cluster/) and the cluster benchmark (bench/cluster/).
//
// haproxy checks /readyz every 500 ms (out after 3 failures) and adds `x-served-by: <instance>` to every answer, so a
// test can see which instance served a request; a request with `x-pin: <instance>` goes there. `option redispatch` + retries send a request
// refused at connect (a process that just died) to the other instance.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../src/config.ts';
import { TEST_KEYS_ENCRYPTION_KEY, TEST_REDIS_URL, tempDir, uniquePrefix } from './env.ts';
import { freePort } from './server.ts';

export const HAPROXY = process.env.HAPROXY_PATH ?? '/usr/sbin/haproxy';

export type ClusterOptions = {
  instances?: number;
  /** Clients of the IdP (redirect URIs and secrets as the test needs them). */
  clients: unknown[];
  /** Sections of config/default.json to change. */
  config?: Record<string, Record<string, unknown>>;
  /** A workflows file's content; default: config/workflows.json. */
  workflows?: unknown;
  /** Environment for every instance (SHUTDOWN_*, VERIFIER_QUEUE_*, LOG_LEVEL...); '' unsets a default of this helper. */
  env?: Record<string, string>;
  /** Environment of one instance only, by index (a webhook gate in front of its receiver). */
  instanceEnv?: (index: number, ports: InstancePorts) => Record<string, string>;
  redisUrl?: string;
  label?: string;
};

export type InstancePorts = { idp: number; verifier: number; metrics: number };

/** The secrets instances that share a store must share (README, "Several instances"). */
export function sharedSecrets(): Record<string, string> {
  return {
    KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY,
    COOKIE_KEYS: randomBytes(32).toString('base64url'),
    VERIFIER_API_KEYS: `vk_${randomBytes(24).toString('base64url')}`,
    VERIFIER_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    VERIFIER_TEMPLATE_KEYS: `t1:${randomBytes(32).toString('base64')}`,
  };
}

export class Instance {
  readonly name: string;
  readonly ports: InstancePorts;
  readonly logs: string[] = [];
  #env: Record<string, string>;
  #child: ChildProcess | undefined;
  #exit: Promise<number | null> = Promise.resolve(null);

  constructor(name: string, ports: InstancePorts, env: Record<string, string>) {
    this.name = name;
    this.ports = ports;
    this.#env = env;
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined;
  }

  /** Start `selfie-idp serve` and wait (at most `timeoutMs`) until both of its /readyz answer 200. */
  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli.ts'), 'serve'], { env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let partial = '';
    const keep = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      this.logs.push(...lines);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const until = Date.now() + timeoutMs;
    for (const port of [this.ports.idp, this.ports.verifier]) {
      while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
        if (child.exitCode !== null) throw new Error(`${this.name} exited (${child.exitCode}) during start:\n${this.logs.slice(-20).join('\n')}`);
        if (Date.now() > until) throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.logs.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Send a signal; resolves with the exit code (null when killed by the signal), or throws after `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<number | null> {
    if (!this.pid) return this.#exit;
    this.#child!.kill(signal);
    return this.exited(timeoutMs);
  }

  async exited(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.name} still running after ${timeoutMs} ms`)), timeoutMs)));
    try {
      return await Promise.race([this.#exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The JSON log lines of this instance whose msg is `msg`. */
  logged(msg: string): Record<string, any>[] {
    return this.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((l) => l.msg === msg);
  }
}

export type Cluster = {
  haproxyPid: number | undefined;
  issuer: string;
  verifierUrl: string;
  instances: Instance[];
  env: Record<string, string>;
  redisPrefix: string;
  dataDir: string;
  /** Until haproxy sends requests to every running instance again (after a restart). */
  waitBalanced: (timeoutMs?: number) => Promise<void>;
  close: () => Promise<void>;
};

function haproxyConfig(idpPort: number, verifierPort: number, instances: { name: string; ports: InstancePorts }[]): string {
  const backend = (kind: 'idp' | 'verifier') =>
    [
      `backend ${kind}`,
      '  balance roundrobin',
      '  option httpchk GET /readyz',
      '  http-check expect status 200',
      '  http-response set-header x-served-by %[srv_name]',
      // Three failed checks in a row take an instance out: one slow answer on a busy machine does not.
      '  default-server inter 500ms fall 3 rise 2',
      // Tests only: `x-pin: <instance>` sends one request to that instance (when it is up).
      ...instances.map((i) => `  use-server ${i.name} if { req.hdr(x-pin) -m str ${i.name} }`),
      ...instances.map((i) => `  server ${i.name} 127.0.0.1:${i.ports[kind]} check`),
    ].join('\n');
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout check 5s',
    // The connection to an instance closes after each answer, so every request is balanced.
    '  option http-server-close',
    // A connection refused (an instance that just stopped) is retried on another instance.
    '  option redispatch 1',
    '  retries 3',
    'frontend idp_in',
    `  bind 127.0.0.1:${idpPort}`,
    '  default_backend idp',
    'frontend verifier_in',
    `  bind 127.0.0.1:${verifierPort}`,
    '  default_backend verifier',
    backend('idp'),
    backend('verifier'),
    '',
  ].join('\n');
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const count = options.instances ?? 2;
  const tmp = tempDir(options.label ?? 'cluster');
  const [lbIdp, lbVerifier] = [await freePort(), await freePort()];
  const redisPrefix = uniquePrefix(options.label ?? 'cluster');
  const defaults = JSON.parse(readFileSync(path.join(REPO_ROOT, 'config', 'default.json'), 'utf8'));
  const merged = { ...defaults };
  for (const [name, values] of Object.entries(options.config ?? {})) merged[name] = { ...defaults[name], ...values };
  writeFileSync(path.join(tmp.dir, 'config.json'), JSON.stringify(merged));
  writeFileSync(path.join(tmp.dir, 'clients.json'), JSON.stringify(options.clients), { mode: 0o600 });
  if (options.workflows) writeFileSync(path.join(tmp.dir, 'workflows.json'), JSON.stringify(options.workflows));

  const env: Record<string, string> = {
    // Only what a process needs from the runner's environment: nothing of its own config leaks in.
    ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${lbIdp}`,
    VERIFIER_HOST: '127.0.0.1',
    VERIFIER_PUBLIC_URL: `http://127.0.0.1:${lbVerifier}`,
    CLIENTS_FILE: path.join(tmp.dir, 'clients.json'),
    CONFIG_FILE: path.join(tmp.dir, 'config.json'),
    ...(options.workflows ? { VERIFIER_WORKFLOWS_FILE: path.join(tmp.dir, 'workflows.json') } : {}),
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    ...sharedSecrets(),
    VERIFIER_FACE_POOL_SIZE: '1',
    DEMO_RP_PORT: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  for (const [name, value] of Object.entries(env)) if (value === '') delete env[name];
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const ports = { idp: await freePort(), verifier: await freePort(), metrics: await freePort() };
    const dataDir = path.join(tmp.dir, `data-${i}`);
    mkdirSync(dataDir, { mode: 0o700 });
    const own = { PORT: String(ports.idp), VERIFIER_PORT: String(ports.verifier), METRICS_PORT: String(ports.metrics), DATA_DIR: dataDir };
    instances.push(new Instance(`i${i}`, ports, { ...env, ...own, ...options.instanceEnv?.(i, ports) }));
  }
  const cfg = path.join(tmp.dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(lbIdp, lbVerifier, instances));
  // -db: stay in the foreground, so the test owns the process.
  const haproxy: ChildProcess = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let haproxyErr = '';
  haproxy.stderr!.on('data', (d) => (haproxyErr += d));
  const haproxyExit = new Promise((resolve) => haproxy.once('exit', resolve));

  const cluster: Cluster = {
    haproxyPid: haproxy.pid,
    issuer: env.ISSUER!,
    verifierUrl: env.VERIFIER_PUBLIC_URL!,
    instances,
    env,
    redisPrefix,
    dataDir: tmp.dir,
    waitBalanced: async (timeoutMs = 20_000) => {
      const until = Date.now() + timeoutMs;
      for (const url of [cluster.issuer, cluster.verifierUrl]) {
        const want = new Set(instances.filter((i) => i.pid).map((i) => i.name));
        const seen = new Set<string>();
        while ([...want].some((n) => !seen.has(n))) {
          if (haproxy.exitCode !== null) throw new Error(`haproxy exited: ${haproxyErr}`);
          if (Date.now() > until) throw new Error(`${url}: haproxy sends to ${[...seen].join(', ') || 'nobody'}, not all of ${[...want].join(', ')}`);
          const served = await fetch(`${url}/healthz`).then((r) => r.headers.get('x-served-by'), () => null);
          if (served) seen.add(served);
          else await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    close: async () => {
      await Promise.all(instances.map((i) => i.stop('SIGKILL', 10_000).catch(() => undefined)));
      haproxy.kill('SIGKILL');
      await haproxyExit;
      tmp.remove();
    },
  };
  try {
    await Promise.all(instances.map((i) => i.start()));
    await cluster.waitBalanced();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/**
 * An HTTP hop in front of one instance's webhook receiver (its VERIFIER_WEBHOOK_URL): passes
 * deliveries on, or, once `hold()` is called, keeps them unanswered, so a test can kill the
 * instance while it holds a claimed delivery, deterministically.
 */
export type WebhookGate = { url: string; target: string; hold: () => void; held: Promise<void>; close: () => Promise<void> };

/** `target` may be set after start (the instance's port is chosen by startCluster). */
export async function startWebhookGate(): Promise<WebhookGate> {
  let holding = false;
  let markHeld!: () => void;
  const held = new Promise<void>((r) => (markHeld = r));
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (holding) {
      markHeld();
      return; // never answered: the sender's delivery stays in flight
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
    try {
      const answer = await fetch(gate.target, { method: req.method, headers, body: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  const gate: WebhookGate = {
    url: `http://127.0.0.1:${port}/webhooks/didit`,
    target: '',
    hold: () => {
      holding = true;
    },
    held,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  return gate;
}
