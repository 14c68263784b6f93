// The pixel size a JPEG declares, read from its frame header (SOFn) in JavaScript: the frame check
// runs on every burst frame before anything decodes them, and asking sharp (a libuv job per frame)
// cost ≈ 4 ms of CPU per 18-frame upload for 18 headers (bench/verifier/session-cpu.ts era
// profiles). Decoding later still refuses a JPEG whose data is broken.

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): the markers that carry the frame's size. */
const isFrameHeader = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Width and height from the first frame header, or null when the bytes are not a well-formed JPEG up to it. */
export function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) { i++; continue; } // fill byte
    // markers without a length (RSTn, TEM); SOI again or EOI before a frame header: malformed
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda) return null;
    const length = (b[i + 2]! << 8) | b[i + 3]!;
    if (length < 2 || i + 2 + length > b.length) return null;
    if (isFrameHeader(marker)) {
      if (length < 8) return null;
      const height = (b[i + 5]! << 8) | b[i + 6]!, width = (b[i + 7]! << 8) | b[i + 8]!;
      return width && height ? { width, height } : null;
    }
    i += 2 + length;
  }
  return null;
}
