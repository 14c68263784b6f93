// IP_ANALYSIS, first version: records the client IP the capture came from and what its user agent
// says (browser, OS, device type). It never changes the verdict. VPN, Tor and data-centre
// detection come with adaptive step-up; until then those fields are null (unknown), not false.
import type { IpAnalysis } from '../../didit/index.ts';
import type { StepInput } from './types.ts';
import { parseUserAgent } from './user-agent.ts';

export const IP_ANALYSIS_NODE = 'ip_analysis_1';

export async function ipAnalysisStep(input: Pick<StepInput, 'client'>): Promise<IpAnalysis[]> {
  const ua = parseUserAgent(input.client.userAgent);
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
      is_vpn_or_tor: null,
      is_data_center: null,
      warnings: [],
    },
  ];
}
