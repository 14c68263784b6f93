// The confirmation mail, in plain text and HTML. It says what to do when the sign-up was not yours:
// nothing; the account made with your address is removed when its time is up.
import type { Mail } from './mailer.ts';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function confirmationMail(input: { to: string; name: string; link: string; linkHours: number; removeAt: number | null }): Mail {
  const removal = input.removeAt ? ` It will be removed on ${new Date(input.removeAt).toUTCString()} if the address is not confirmed.` : '';
  const text = [
    `Hello ${input.name},`,
    '',
    'Someone set up selfie sign-in with this email address. If it was you, confirm the address:',
    '',
    input.link,
    '',
    `The link works once, for ${input.linkHours} hours.`,
    '',
    `If it was not you, ignore this mail and do not open the link: the account was not confirmed.${removal}`,
  ].join('\n');
  const html = [
    `<p>Hello ${escapeHtml(input.name)},</p>`,
    '<p>Someone set up selfie sign-in with this email address. If it was you, confirm the address:</p>',
    `<p><a href="${escapeHtml(input.link)}">Confirm my email address</a></p>`,
    `<p>The link works once, for ${input.linkHours} hours.</p>`,
    `<p>If it was not you, ignore this mail and do not open the link: the account was not confirmed.${escapeHtml(removal)}</p>`,
  ].join('\n');
  return { to: input.to, subject: 'Confirm your email address', text, html };
}
