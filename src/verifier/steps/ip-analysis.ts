// IP_ANALYSIS: records the client IP the capture came from and what its user agent says (browser,
// OS, device type), and whether the IP is in the operator's lists (IP_LISTS_DIR, the same files
// the IdP's risk policy reads: src/risk/ip-lists.ts): is_vpn_or_tor from tor.txt and vpn.txt,
// is_data_center from datacenter.txt. A field whose lists are all missing is null (unknown), not
// false. No network look-ups; no country (no geolocation list). It never changes the verdict.
import type { IpAnalysis } from '../../didit/index.ts';
import type { StepInput } from './types.ts';
import { parseUserAgent } from './user-agent.ts';

export const IP_ANALYSIS_NODE = 'ip_analysis_1';

export async function ipAnalysisStep(input: Pick<StepInput, 'client'> & { deps?: Pick<StepInput['deps'], 'ipLists'> }): Promise<IpAnalysis[]> {
  const ua = parseUserAgent(input.client.userAgent);
  const lists = input.deps?.ipLists;
  const listed = lists?.classify(input.client.ip);
  return [
    {
      node_id: IP_ANALYSIS_NODE,
      status: 'Approved',
      ip_address: input.client.ip,
      browser_family: ua.browser,
      os_family: ua.os,
      platform: ua.device,
      device_brand: null,
      device_model: null,
      ip_country_code: null,
      is_vpn_or_tor: lists && listed && (lists.present('tor') || lists.present('vpn')) ? listed.tor || listed.vpn : null,
      is_data_center: lists && listed && lists.present('datacenter') ? listed.datacenter : null,
      warnings: [],
    },
  ];
}
