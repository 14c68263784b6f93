// What the console shows of a verification session, from the v3 decision (the IdP reads the
// service only over the contract): each feature's status, score and warnings, the IP analysis,
// and media links only where the service retains media (it gives URLs then).
import type { ReceivedDecision } from '../../didit/index.ts';

type ViewWarning = { risk: string; text: string; account: string | null };

export type SessionView = {
  id: string;
  status: string;
  workflow: string;
  accountId: string | null;
  createdAt: string | null;
  blocks: { name: string; status: string; score: number | null; lines: string[]; warnings: ViewWarning[]; media: { label: string; url: string }[] }[];
  warnings: ViewWarning[];
};

type Warning = { risk: string; short_description?: string; long_description?: string; additional_data?: unknown };
/** DUPLICATED_FACE names the other account (additional_data.vendor_data): shown to operators only, as a link. */
const otherAccount = (data: unknown) => (data && typeof data === 'object' && typeof (data as { vendor_data?: unknown }).vendor_data === 'string' ? (data as { vendor_data: string }).vendor_data : null);
const warningsOf = (w: Warning[] | undefined) => (w ?? []).map((x) => ({ risk: x.risk, text: x.short_description ?? x.long_description ?? '', account: otherAccount(x.additional_data) }));
const media = (pairs: [string, string | null | undefined][]) => pairs.filter((p): p is [string, string] => typeof p[1] === 'string' && p[1].length > 0).map(([label, url]) => ({ label, url }));
const yesNo = (v: boolean | null | undefined) => (v === null || v === undefined ? 'unknown' : v ? 'yes' : 'no');

export function sessionView(d: ReceivedDecision): SessionView {
  const blocks: SessionView['blocks'] = [];
  for (const l of d.liveness_checks ?? []) {
    blocks.push({ name: `Liveness${l.method ? ` (${l.method})` : ''}`, status: l.status ?? '', score: l.score ?? null, lines: [], warnings: warningsOf(l.warnings), media: media([['Reference image', l.reference_image], ['Video', l.video_url]]) });
  }
  for (const f of d.face_matches ?? []) {
    blocks.push({ name: 'Face match', status: f.status ?? '', score: f.score ?? null, lines: [], warnings: warningsOf(f.warnings), media: media([['Source image', f.source_image], ['Target image', f.target_image]]) });
  }
  for (const ip of d.ip_analyses ?? []) {
    blocks.push({
      name: 'IP analysis',
      status: ip.status ?? '',
      score: null,
      lines: [`IP ${ip.ip_address ?? 'unknown'}`, `${ip.browser_family ?? '?'} on ${ip.os_family ?? '?'} (${ip.platform ?? '?'})`, `VPN or Tor: ${yesNo(ip.is_vpn_or_tor)}`, `Data centre: ${yesNo(ip.is_data_center)}`],
      warnings: warningsOf(ip.warnings),
      media: [],
    });
  }
  return { id: d.session_id, status: d.status, workflow: d.workflow_id ?? '', accountId: d.vendor_data ?? null, createdAt: d.created_at ?? null, blocks, warnings: warningsOf(d.warnings) };
}
