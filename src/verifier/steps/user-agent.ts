// A small user-agent parser for IP_ANALYSIS: browser family, OS family and device type. Enough
// for a reviewer and for adaptive step-up later; not a device fingerprint. Order matters: Edge and
// Opera say "Chrome", Chrome says "Safari", Android says "Linux".

export type ParsedUserAgent = { browser: string | null; os: string | null; device: 'mobile' | 'tablet' | 'desktop' | 'bot' | null };

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(HeadlessChrome)\//, 'Headless Chrome'],
  [/\b(Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*Safari\//, 'Safari'],
  [/\bSafari\//, 'Safari'],
];

const SYSTEMS: [RegExp, string][] = [
  [/\b(iPhone|iPad|iPod)\b.*\bOS \d/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'Chrome OS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'Mac OS X'],
  [/\bLinux\b/, 'Linux'],
];

export function parseUserAgent(ua: string | null | undefined): ParsedUserAgent {
  if (!ua) return { browser: null, os: null, device: null };
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1] ?? 'Other';
  const os = SYSTEMS.find(([re]) => re.test(ua))?.[1] ?? 'Other';
  let device: ParsedUserAgent['device'] = 'desktop';
  if (/\b(bot|crawler|spider|curl|wget|python-requests|node-fetch|undici)\b/i.test(ua)) device = 'bot';
  else if (/\biPad\b|\bTablet\b/.test(ua) || (/\bAndroid\b/.test(ua) && !/\bMobile\b/.test(ua))) device = 'tablet';
  else if (/\bMobile\b|\biPhone\b|\biPod\b/.test(ua)) device = 'mobile';
  return { browser, os, device };
}
