// The capture upload under hostile multipart bodies (issue 16): truncated, oversize (declared and
// streamed), nested, mislabelled, unknown or repeated parts, header floods. Each gets a clear 4xx
// with a JSON body, nothing is written to the session, and the process keeps answering.
import { request } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, openPage, startTestVerifier } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';

let v: TestVerifier;
let session: { session_id: string; url: string };
let frame: Buffer;
let still: Buffer;

beforeAll(async () => {
  v = await startTestVerifier();
  const res = await api(v, 'POST', '/v3/session/', { workflow_id: 'reauth-plain', vendor_data: 'fuzz', callback: 'https://rp.example/cb' });
  session = res.body;
  frame = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 90, g: 110, b: 130 } } }).jpeg().toBuffer();
  still = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 130 } } }).jpeg().toBuffer();
});
afterAll(async () => v?.stop());

const B = 'fuzzboundary7MA4YWxkTrZu0gW';
type Part = { name: string; filename?: string; type?: string; body: Buffer | string; headers?: string[] };
const part = (p: Part) =>
  Buffer.concat([
    Buffer.from(
      `--${B}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n` +
        (p.type ? `Content-Type: ${p.type}\r\n` : '') +
        (p.headers ?? []).map((h) => `${h}\r\n`).join('') +
        '\r\n',
    ),
    Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body),
    Buffer.from('\r\n'),
  ]);
const body = (parts: Part[]) => Buffer.concat([...parts.map(part), Buffer.from(`--${B}--\r\n`)]);
const jpegPart = (name: string, bytes: Buffer, i = 0): Part => ({ name, filename: `${name}${i}.jpg`, type: 'image/jpeg', body: bytes });
const good = (): Part[] => [jpegPart('still', still), ...[0, 1, 2].map((i) => jpegPart('frame', frame, i)), { name: 'times', body: '[0,100,200]' }, { name: 'capture_index', body: '1' }];

/** POST with a fresh grant, over raw HTTP so the body can be anything (and streamed without a length). */
async function upload(payload: Buffer, { contentType = `multipart/form-data; boundary=${B}`, chunked = false } = {}): Promise<{ status: number; json: any }> {
  const page = await openPage(session.url);
  const url = new URL(v.url + page.config.uploadUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': contentType, 'x-upload-token': page.config.uploadToken, ...(chunked ? {} : { 'content-length': String(payload.length) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : null });
      });
    });
    // The server may answer and stop reading before the whole body is sent: that is the point.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    if (chunked) {
      // In pieces, as a slow client would: the refusal must not wait for the end.
      for (let i = 0; i < payload.length; i += 64 * 1024) req.write(payload.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(payload);
  });
}

const unchanged = async () => {
  const d = (await api(v, 'GET', `/v3/session/${session.session_id}/decision/`)).body;
  expect(d.status).toBe('In Progress');
  expect(d.liveness_checks).toBeNull();
  expect(d.face_matches).toBeNull();
};

describe('hostile multipart uploads', () => {
  const big = () => Buffer.concat([frame, Buffer.alloc(101 * 1024, 1)]);
  const cases: [string, () => Buffer, number, { contentType?: string; chunked?: boolean }?][] = [
    ['truncated in the middle of a part', () => body(good()).subarray(0, 2000), 400],
    ['no closing boundary', () => Buffer.concat(good().map(part)), 400],
    ['not multipart at all', () => Buffer.from('hello'), 400],
    ['a boundary the body never uses', () => body(good()), 400, { contentType: 'multipart/form-data; boundary=other' }],
    ['no boundary in the content type', () => body(good()), 400, { contentType: 'multipart/form-data' }],
    ['a frame over 100 KB', () => body([jpegPart('still', still), jpegPart('frame', big()), jpegPart('frame', frame, 1), { name: 'times', body: '[0,100]' }, { name: 'capture_index', body: '0' }]), 413],
    ['a still over 1 MB', () => body([jpegPart('still', Buffer.concat([still, Buffer.alloc(1024 * 1024)])), ...good().slice(1)]), 413],
    ['a body over the limit, declared', () => Buffer.alloc(4 * 1024 * 1024), 413],
    ['a body over the limit, streamed without a length', () => Buffer.concat([part(jpegPart('still', still)), Buffer.alloc(4 * 1024 * 1024, 0x41)]), 413, { chunked: true }],
    ['a nested multipart part', () => body([jpegPart('still', still), { name: 'frame', filename: 'x', type: `multipart/mixed; boundary=inner`, body: `--inner\r\nContent-Type: image/jpeg\r\n\r\nxx\r\n--inner--` }, ...good().slice(2)]), 400],
    ['a frame labelled text/plain', () => body([jpegPart('still', still), { name: 'frame', filename: 'f.txt', type: 'text/plain', body: frame }, ...good().slice(2)]), 400],
    ['a frame labelled JPEG that is not one', () => body([jpegPart('still', still), jpegPart('frame', Buffer.from('GIF89a not a jpeg at all')), ...good().slice(2)]), 400],
    ['the still as a text field', () => body([{ name: 'still', body: 'not a file' }, ...good().slice(1)]), 400],
    ['an unknown part', () => body([...good(), jpegPart('evil', frame)]), 400],
    ['an unknown field', () => body([...good(), { name: '__proto__', body: '{}' }]), 400],
    ['two stills', () => body([jpegPart('still', still), ...good()]), 400],
    ['times twice', () => body([...good(), { name: 'times', body: '[0,1,2]' }]), 400],
    ['19 frames', () => body([jpegPart('still', still), ...Array.from({ length: 19 }, (_, i) => jpegPart('frame', frame, i)), { name: 'times', body: JSON.stringify(Array.from({ length: 19 }, (_, i) => i * 10)) }, { name: 'capture_index', body: '0' }]), 400],
    ['a 10 KB times field', () => body([...good().slice(0, 4), { name: 'times', body: `[${'1,'.repeat(5000)}1]` }, { name: 'capture_index', body: '1' }]), 400],
    // busboy reads at most 16 KB of one part's headers (and, of those, the first 16 pairs).
    ['a flood of headers in one part', () => body([{ ...jpegPart('still', still), headers: Array.from({ length: 100 }, (_, i) => `X-H${i}: ${'h'.repeat(300)}`) }, ...good().slice(1)]), 400],
    ['a part name of 10 KB', () => body([...good(), { name: 'n'.repeat(10_000), body: 'x' }]), 400],
  ];

  it.each(cases)('%s → a clear 4xx, nothing written', async (_label, make, status, options) => {
    const res = await upload(make(), options);
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ outcome: 'error', detail: expect.any(String) });
    await unchanged();
  });

  it('the process still answers, and a well-formed upload still parses (then is judged)', async () => {
    expect((await fetch(`${v.url}/healthz`)).status).toBe(200);
    // Without a face engine in this file the judged upload cannot complete; that it is read past the
    // parser is what matters: it is not refused as malformed or too large.
    const res = await upload(body(good()));
    expect([400, 413]).not.toContain(res.status);
  });
});
