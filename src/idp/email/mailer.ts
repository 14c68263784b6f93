// Sending mail: SMTP through nodemailer when SMTP_URL is set; otherwise the development outbox,
// so `npm start` works with no setup: each mail is written to DATA_DIR/outbox/ (one .eml file,
// 0600, as the rest of DATA_DIR) and to the log, link included. Said at start-up.
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { PRIVATE_FILE_MODE, ensurePrivateDir } from '../../store/data-dir.ts';

export type Mail = { to: string; subject: string; text: string; html: string };

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
    async send(mail) {
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
      const info = await compose.sendMail(mail);
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`);
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
