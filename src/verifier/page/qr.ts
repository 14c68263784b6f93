// The session URL as a QR code for the "no camera here" screen, drawn server-side as an inline SVG
// (no network, no script). The symbol comes from `qrcode` (byte mode, error correction M, the
// smallest version that fits); only the SVG markup is ours, so the code carries an accessible name
// and one path, and fits the page's strict CSP (no inline style).
import QRCode from 'qrcode';

/** An SVG of the code with a 4-module quiet zone, one path, for inline use in a page. */
export function qrSvg(text: string, label: string): string {
  // One byte-mode segment, as said above: left to itself qrcode searches the cheapest mix of modes
  // (a shortest-path search, most of the code's cost) for the same version on a URL like ours.
  const { modules } = QRCode.create([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], { errorCorrectionLevel: 'M' });
  const border = 4;
  const size = modules.size + border * 2;
  let d = '';
  for (let y = 0; y < modules.size; y++) {
    for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) d += `M${x + border},${y + border}h1v1h-1z`;
  }
  const esc = label.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" role="img" aria-label="${esc}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
}
