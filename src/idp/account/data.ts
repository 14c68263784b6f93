// "Download my data": the account, its devices, passkeys (descriptions, no key material) and
// sign-in history as JSON. The face template is the service's: the file says one exists, never
// its contents.
import type { Account } from '../accounts.ts';
import { describePasskey } from '../passkeys/passkeys.ts';
import type { Passkey } from '../passkeys/passkeys.ts';
import type { SigninRecord } from '../signin/history.ts';
import { deviceFingerprint } from '../signin/history.ts';
import type { DeviceRecord } from '../signin/risk.ts';

export function accountData(account: Account, parts: { passkeys: Passkey[]; devices: Record<string, DeviceRecord>; signins: SigninRecord[] }) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    exported_at: new Date().toISOString(),
    account: { id: account.id, email: account.email, email_verified: account.emailVerified, name: account.name, created_at: iso(account.created), operator: account.operator === true },
    face: {
      enrolled: account.enrolledAt !== null,
      enrolled_at: iso(account.enrolledAt),
      template: account.enrolledAt !== null ? 'A face template made from your enrolment selfie is kept, encrypted, by the verification service. It is not included here: it is a set of numbers only the face matcher can use.' : null,
    },
    devices: Object.entries(parts.devices).map(([id, d]) => ({ id: deviceFingerprint(id), first_seen: iso(d.firstSeen), last_seen: iso(d.lastSeen), last_approved_at: iso(d.lastApprovedAt) })),
    passkeys: parts.passkeys.map(describePasskey),
    signins: parts.signins,
  };
}
