// Sending mail: SMTP through nodemailer when SMTP_URL is set; otherwise the development outbox,
// so `npm start` works with no setup: each mail is written to DATA_DIR/outbox/ (one .eml file,
// 0600, as the rest of DATA_DIR) and to the log, link included. Said at start-up.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { PRIVATE_FILE_MODE, ensurePrivateDir } from '../../store/data-dir.ts';

/** about: the account the mail is about (the outbox names its file after it, so erasure finds it). */
export type Mail = { to: string; subject: string; text: string; html: string; about?: string };

/** The outbox file name's prefix for an account: opaque (a hash, not the id itself). */
const outboxTag = (accountId: string) => createHash('sha256').update(`outbox:${accountId}`).digest('hex').slice(0, 24);

/**
 * Erasure: the development outbox's mails about the account (named after it; older files, named
 * otherwise, are read: the outbox is a small development directory). Nothing when it does not exist.
 */
export async function forgetOutbox(config: Config, accountId: string, email: string): Promise<number> {
  const dir = path.join(config.dataDir, 'outbox');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const tag = outboxTag(accountId);
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const about = name.startsWith(`${tag}-`) || (await mentions(file, [accountId, email.toLowerCase()]));
    if (about) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

async function mentions(file: string, needles: string[]): Promise<boolean> {
  // Quoted-printable soft line breaks and =3D undone, so a wrapped link is found.
  const text = (await readFile(file, 'utf8').catch(() => '')).replace(/=\r?\n/g, '').replace(/=3D/gi, '=').toLowerCase();
  return needles.some((n) => text.includes(n));
}

export interface Mailer {
  /** For the start-up log: where mail goes. */
  readonly description: string;
  send(mail: Mail): Promise<void>;
  close(): void;
}

// A mail server that hangs must not hold a request (or a sweep) for minutes.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl, { from });
  Object.assign(transport.options, SMTP_TIMEOUTS);
  const url = new URL(smtpUrl);
  return {
    // Never the password.
    description: `smtp ${url.protocol}//${url.host}`,
    async send({ about: _about, ...mail }) {
      await transport.sendMail(mail);
    },
    close: () => transport.close(),
  };
}

function outboxMailer(dir: string, from: string, log: Logger): Mailer {
  // nodemailer composes the same message it would send, as a buffer instead of over SMTP.
  const compose = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }, { from });
  return {
    description: `development outbox ${dir} (SMTP_URL unset)`,
    async send(mail) {
      ensurePrivateDir(dir);
      const { about, ...message } = mail;
      const info = await compose.sendMail(message);
      const file = path.join(dir, `${about ? `${outboxTag(about)}-` : ''}${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`);
      // Whole or not at all: written beside, then renamed into place.
      await writeFile(`${file}.part`, info.message as Buffer, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
      await rename(`${file}.part`, file);
      log.warn({ to: mail.to, subject: mail.subject, file, text: mail.text }, 'mail NOT sent (SMTP_URL unset): written to the development outbox');
    },
    close: () => compose.close(),
  };
}

export function openMailer(config: Config, log: Logger): Mailer {
  return config.mail.smtpUrl ? smtpMailer(config.mail.smtpUrl, config.mail.from) : outboxMailer(path.join(config.dataDir, 'outbox'), config.mail.from, log);
}
