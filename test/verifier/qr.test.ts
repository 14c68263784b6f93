// The "continue on your phone" QR code: rendered as the page shows it (the SVG, rasterised by
// sharp), then read by an independent decoder (jsQR): it must decode to the session URL.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import jsQRModule from 'jsqr';

// jsqr is CommonJS whose module.exports is the function; its types describe an ES default export.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;
import { qrSvg } from '../../src/verifier/page/qr.ts';

async function decode(svg: string): Promise<string | undefined> {
  const { data, info } = await sharp(Buffer.from(svg), { density: 300 }).resize(600, 600, { kernel: 'nearest' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height)?.data;
}

describe('QR code of the session URL', () => {
  const urls = [
    'https://x.io',
    'http://localhost:3100/session/abcdefghijklmnopqrstuvwx?handoff=1',
    `https://verify.example.com/session/${'A'.repeat(24)}?handoff=1&pad=${'p'.repeat(60)}`,
    `https://verify.example.com/${'z'.repeat(180)}`,
  ];

  it.each(urls)('decodes to %s', async (url) => {
    expect(await decode(qrSvg(url, 'QR code'))).toBe(url);
  });

  it('is one accessible image with an escaped label and nothing executable', () => {
    const svg = qrSvg('https://x.io/session/abc?handoff=1', 'Scan "this" <now> & go');
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-label="Scan &quot;this&quot; &lt;now> &amp; go"/);
    expect(svg).not.toMatch(/<script|style=|on\w+=/i);
    expect(svg.match(/<path /g)).toHaveLength(1);
  });
});
