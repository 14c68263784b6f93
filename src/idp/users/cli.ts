// `selfie-idp users …`: the operator's tools for accounts and their enrolment.
//   users enrol --email E [--name N] --image FILE...   → {"account_id","email"}
//   users list                                         → one JSON line per account
//   users delete --email E                             → removes account, template, sessions
//   users show --email E                               → the account and its face throttle, as JSON
//   users unlock --email E                             → resets the face throttle (consecutive failures)
//   users passkeys --email E                           → the account's passkeys, one JSON line each
//   users passkey-remove --email E --id ID             → removes one passkey of the account
//   users grant-operator --email E                     → the account may enter /admin
//   users revoke-operator --email E                    → it may not any more
// They work on the same store (DATA_DIR or REDIS_URL) as the running server.
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../../config.ts';
import type { Config } from '../../config.ts';
import { openStore } from '../../store/index.ts';
import type { Store } from '../../store/index.ts';
import { DiditClient } from '../../didit/index.ts';
import { Accounts } from '../accounts.ts';
import { PortraitVault } from '../signin/portraits.ts';

import { UsageError } from '../../usage-error.ts';
import { FaceThrottle } from '../signin/throttle.ts';
import { eraseAccount, forgetOverContract } from '../erasure.ts';
import type { ForgetAtVerifier } from '../erasure.ts';
import { Passkeys, describePasskey } from '../passkeys/passkeys.ts';
import type { Account } from '../accounts.ts';
import { AuditLog, auditSubject } from '../audit.ts';

/**
 * What `users` needs from the embedded verifier (no verification service over the network):
 * given by the entry layer (src/users-embedded.ts), as the IdP imports nothing from src/verifier.
 */
export type EmbeddedVerifierUsers = {
  enrol(store: Store, accountId: string, images: Uint8Array[]): Promise<void>;
  forget(store: Store, accountId: string): Promise<{ template: boolean; sessions: number }>;
};

const CLI_MAX_IMAGE_BYTES = 25 * 1024 * 1024;
const PORTRAIT_MAX_BYTES = 1024 * 1024;

async function readImages(paths: string[]): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (const file of paths) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`--image ${file}: no such file`);
    if (info.size > CLI_MAX_IMAGE_BYTES) throw new Error(`--image ${file}: larger than 25 MB`);
    images.push(await readFile(file));
  }
  return images;
}

/** The real service takes a JPEG of at most 1 MB as the reference portrait. */
async function portraitJpeg(image: Buffer): Promise<Buffer> {
  for (const [size, quality] of [[1600, 90], [1024, 85], [800, 80]] as const) {
    const jpeg = await sharp(image).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality }).toBuffer();
    if (jpeg.length <= PORTRAIT_MAX_BYTES) return jpeg;
  }
  throw new Error('the image cannot be made into a JPEG portrait of at most 1 MB');
}

/**
 * `args` with each of `options` that is followed by another argument joined to it (`--id X` →
 * `--id=X`). util.parseArgs refuses an option's value that begins with "-" ("argument is
 * ambiguous") unless it is written `--id=-X`. A passkey's id is the authenticator's base64url
 * credential id, which begins with "-" once in 64, and the operator pastes it after `--id` as
 * `users passkeys` printed it (and an address may begin with "-" too). After these options, the
 * next argument is the value, whatever it begins with: every `users` option takes a value. A missing value still fails: `--id --email E` leaves `E` as an unexpected argument.
 */
export function joinOptionValues(args: readonly string[], options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (options.includes(arg) && i + 1 < args.length) out.push(`${arg}=${args[++i]}`);
    else out.push(arg);
  }
  return out;
}

type StringOptions = Record<string, { type: 'string'; multiple?: boolean }>;

/** parseArgs (strict) for the `users` subcommands, whose options all take a value (joinOptionValues). */
function parseUsersArgs<O extends StringOptions>(args: readonly string[], options: O) {
  return parseArgs({ args: joinOptionValues(args, Object.keys(options).map((o) => `--${o}`)), options, strict: true });
}

async function enrol(config: Config, store: Store, embedded: EmbeddedVerifierUsers, args: string[]): Promise<number> {
  const { values } = parseUsersArgs(args, { email: { type: 'string' }, name: { type: 'string' }, image: { type: 'string', multiple: true } });
  if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email)) throw new UsageError('users enrol: --email with a valid address is required');
  if (!values.image?.length) throw new UsageError('users enrol: at least one --image FILE is required');
  const images = await readImages(values.image);
  const accounts = new Accounts(store);

  if (config.verification.mode === 'remote') {
    if (!config.verification.portraitKey) throw new Error('PORTRAIT_KEY: required when DIDIT_API_KEY is set');
    const portrait = await portraitJpeg(images[0]!);
    const { account } = await accounts.create({ email: values.email, name: values.name ?? values.email });
    await new PortraitVault(store, config.verification.portraitKey).save(account.id, portrait);
    await accounts.markEnrolled(account.id);
    console.log(JSON.stringify({ account_id: account.id, email: account.email }));
    return 0;
  }

  // Embedded verifier: the template is made and sealed exactly as an approved enrolment would.
  const { account, created } = await accounts.create({ email: values.email, name: values.name ?? values.email });
  try {
    await embedded.enrol(store, account.id, images);
  } catch (err) {
    // A refused image leaves nothing half-written: a new account goes again.
    if (created) await accounts.delete(account.id);
    throw err;
  }
  await accounts.markEnrolled(account.id);
  console.log(JSON.stringify({ account_id: account.id, email: account.email }));
  return 0;
}

/** One account as the operator sees it, with its face throttle counters. */
async function describeAccount(a: Account, throttle: FaceThrottle) {
  const face = await throttle.state(a.id);
  return {
    account_id: a.id,
    email: a.email,
    name: a.name,
    enrolled: a.enrolledAt !== null,
    email_verified: a.emailVerified,
    // Sign-up accounts whose address is not confirmed are erased at this time (docs/signin.md, Verified emails).
    unverified_until: a.unverifiedUntil ? new Date(a.unverifiedUntil).toISOString() : null,
    operator: a.operator === true,
    created_at: new Date(a.created).toISOString(),
    face_failures: face.failures,
    face_last_failure_at: face.lastFailureAt === null ? null : new Date(face.lastFailureAt).toISOString(),
    // By the schedule, whatever this process's clock: may be in the past (then there is no wait).
    face_retry_at: face.nextAttemptAt === null ? null : new Date(face.nextAttemptAt).toISOString(),
    face_disabled: face.disabled,
  };
}

async function list(config: Config, store: Store): Promise<number> {
  const throttle = new FaceThrottle(store, config.throttle);
  for (const a of await new Accounts(store).list()) console.log(JSON.stringify(await describeAccount(a, throttle)));
  return 0;
}

async function findByEmailArg(store: Store, command: string, args: string[]): Promise<Account | undefined> {
  const { values } = parseUsersArgs(args, { email: { type: 'string' } });
  if (!values.email) throw new UsageError(`users ${command}: --email is required`);
  return findByEmail(store, values.email);
}

async function findByEmail(store: Store, email: string): Promise<Account | undefined> {
  const account = await new Accounts(store).findByEmail(email);
  if (!account) console.error(`selfie-idp: no account with email ${email}`);
  return account;
}

async function show(config: Config, store: Store, args: string[]): Promise<number> {
  const account = await findByEmailArg(store, 'show', args);
  if (!account) return 1;
  console.log(JSON.stringify(await describeAccount(account, new FaceThrottle(store, config.throttle))));
  return 0;
}

async function listPasskeys(config: Config, store: Store, args: string[]): Promise<number> {
  const account = await findByEmailArg(store, 'passkeys', args);
  if (!account) return 1;
  for (const p of await new Passkeys(store, config.issuer).list(account.id)) console.log(JSON.stringify({ account_id: account.id, ...describePasskey(p) }));
  return 0;
}

async function removePasskey(config: Config, store: Store, args: string[]): Promise<number> {
  const { values } = parseUsersArgs(args, { email: { type: 'string' }, id: { type: 'string' } });
  if (!values.email || !values.id) throw new UsageError('users passkey-remove: --email and --id are required');
  const account = await findByEmail(store, values.email);
  if (!account) return 1;
  if (!(await new Passkeys(store, config.issuer).remove(account.id, values.id, 'cli'))) {
    console.error(`selfie-idp: ${values.email} has no passkey ${values.id}`);
    return 1;
  }
  console.log(JSON.stringify({ account_id: account.id, passkey_id: values.id, removed: true }));
  return 0;
}

/** After checking who is asking: face sign-in again, from zero consecutive failures. */
async function unlock(config: Config, store: Store, args: string[]): Promise<number> {
  const account = await findByEmailArg(store, 'unlock', args);
  if (!account) return 1;
  const throttle = new FaceThrottle(store, config.throttle);
  const before = await throttle.state(account.id);
  await throttle.reset(account.id);
  await new AuditLog(store).append('account.throttle_unlocked', { actor: 'cli', subject: auditSubject(account.id) });
  console.log(JSON.stringify({ account_id: account.id, email: account.email, unlocked: true, face_failures_before: before.failures, face_disabled_before: before.disabled }));
  return 0;
}

async function remove(config: Config, store: Store, embedded: EmbeddedVerifierUsers, args: string[]): Promise<number> {
  const { values } = parseUsersArgs(args, { email: { type: 'string' } });
  if (!values.email) throw new UsageError('users delete: --email is required');
  const accounts = new Accounts(store);
  // includeErasing: a delete interrupted half-way is finished by running it again.
  const account = await accounts.findByEmail(values.email, { includeErasing: true });
  if (!account) {
    console.error(`selfie-idp: no account with email ${values.email}`);
    return 1;
  }
  let forget: ForgetAtVerifier;
  if (config.verification.mode === 'remote') {
    // The service's sessions go through its own API; the portrait is ours.
    const client = new DiditClient({ baseUrl: config.verification.baseUrl, apiKey: config.verification.apiKey });
    forget = forgetOverContract(client, store, config.verification.portraitKey);
  } else {
    forget = (accountId) => embedded.forget(store, accountId);
  }
  const forgotten = await eraseAccount(config, store, account, forget, 'cli');
  console.log(JSON.stringify({ account_id: account.id, email: account.email, deleted: true, template_deleted: forgotten.template, sessions_deleted: forgotten.sessions }));
  return 0;
}

/** The operator role: who may enter /admin (docs/operations.md, Operator console). */
async function setOperator(store: Store, args: string[], operator: boolean): Promise<number> {
  const command = operator ? 'grant-operator' : 'revoke-operator';
  const account = await findByEmailArg(store, command, args);
  if (!account) return 1;
  await new Accounts(store).setOperator(account.id, operator, 'cli');
  console.log(JSON.stringify({ account_id: account.id, email: account.email, operator }));
  return 0;
}

export async function runUsers(args: string[], embedded: EmbeddedVerifierUsers): Promise<number> {
  const [sub, ...rest] = args;
  if (!['enrol', 'list', 'delete', 'show', 'unlock', 'passkeys', 'passkey-remove', 'grant-operator', 'revoke-operator'].includes(sub ?? '')) {
    throw new UsageError(`users: expected "enrol", "list", "show", "unlock", "passkeys", "passkey-remove", "grant-operator", "revoke-operator" or "delete", got ${sub ?? 'nothing'}`);
  }
  const config = loadConfig();
  const store = await openStore(config);
  try {
    if (sub === 'enrol') return await enrol(config, store, embedded, rest);
    if (sub === 'list') return await list(config, store);
    if (sub === 'show') return await show(config, store, rest);
    if (sub === 'unlock') return await unlock(config, store, rest);
    if (sub === 'passkeys') return await listPasskeys(config, store, rest);
    if (sub === 'passkey-remove') return await removePasskey(config, store, rest);
    if (sub === 'grant-operator' || sub === 'revoke-operator') return await setOperator(store, rest, sub === 'grant-operator');
    return await remove(config, store, embedded, rest);
  } finally {
    await store.close();
  }
}
