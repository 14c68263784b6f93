// A real SMTP server for tests (smtp-server, as mail relays speak it) on a free loopback port:
// what the IdP sends arrives here over SMTP and is kept, decoded enough to read links.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export type ReceivedMail = { from: string; to: string[]; raw: string; text: string };

export type TestSmtp = { url: string; mails: ReceivedMail[]; waitForMail: (to: string, count?: number, timeoutMs?: number) => Promise<ReceivedMail>; close: () => Promise<void> };

/** Quoted-printable soft line breaks and escapes, so that a long link reads whole. */
function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export async function startSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, text: decodeQuotedPrintable(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitForMail(to, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mine = mails.filter((m) => m.to.includes(to));
        if (mine.length >= count) return mine[count - 1]!;
        if (Date.now() > deadline) throw new Error(`no mail #${count} to ${to} within ${timeoutMs} ms (${mails.length} mails received)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The confirmation link in a mail (issuer/email/verify?account=…&token=…). */
export function confirmationLink(mail: { text: string }): string {
  const link = /(https?:\/\/[^\s"<>]+\/email\/verify\?account=[0-9a-f-]+&(?:amp;)?token=[A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
  if (!link) throw new Error('no confirmation link in the mail');
  return link.replace('&amp;', '&');
}
