// Debian's Chromium for browser tests, with a fake camera that plays a y4m file in a loop.
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchWithCamera(y4m: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`,
      // timers and animation frames keep their pace in a headless tab (the challenges are timed)
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    ],
  });
}
