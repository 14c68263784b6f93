// multipart/form-data read while it streams in, with busboy (a kept parser), under our limits: the
// whole body, the number of parts and files, each part's bytes by its name, the field names and
// the parts' content types. What breaks a limit is refused as it arrives, before the body is
// buffered whole; nothing is kept from a refused upload. Only what the form names is returned.
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { ApiError } from '../http/errors.ts';

export type MultipartLimits = {
  /** The whole body, multipart framing included. */
  totalBytes: number;
  /** File parts: the most of each name, and the most bytes in one part of that name. */
  files: Record<string, { maxCount: number; maxBytes: number; tooLarge: string }>;
  /** Text fields that may appear (each at most once), with their largest size in bytes. */
  fields: Record<string, number>;
  /** The content type every file part must declare. */
  fileType: string;
};

export type MultipartForm = { files: Map<string, Buffer[]>; fields: Map<string, string> };

const malformed = (detail: string) => new ApiError(400, { outcome: 'error', detail });
const tooLarge = (detail: string) => new ApiError(413, { outcome: 'error', detail });

export function readMultipart(req: IncomingMessage, contentType: string, limits: MultipartLimits): Promise<MultipartForm> {
  const declared = Number(req.headers['content-length'] || 0);
  if (declared > limits.totalBytes) return Promise.reject(tooLarge(`The upload is larger than ${limits.totalBytes} bytes.`));
  const maxFiles = Object.values(limits.files).reduce((n, f) => n + f.maxCount, 0);
  const maxFields = Object.keys(limits.fields).length;
  const largest = Math.max(...Object.values(limits.files).map((f) => f.maxBytes));
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      // One byte past each cap, so that a part at the cap is told from one over it. Parts likewise:
      // busboy reports partsLimit once the count reaches the limit, so a form with every allowed part
      // (an 18-frame screen-light burst with its challenge id) would be refused at maxFiles + maxFields.
      limits: { files: maxFiles, fields: maxFields, parts: maxFiles + maxFields + 1, fileSize: largest + 1, fieldSize: Math.max(...Object.values(limits.fields), 1) + 1, fieldNameSize: 64, headerPairs: 16 },
    });
  } catch {
    return Promise.reject(malformed('The capture is not valid multipart/form-data.'));
  }

  return new Promise<MultipartForm>((resolve, reject) => {
    const form: MultipartForm = { files: new Map(), fields: new Map() };
    let settled = false;
    let received = 0;
    const starts = new Map<string, number>();
    const fail = (err: ApiError) => {
      if (settled) return;
      settled = true;
      // Stop reading: what is left of the body is read and thrown away, never kept.
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => {});
      req.resume();
      form.files.clear();
      form.fields.clear();
      reject(err);
    };

    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.totalBytes) fail(tooLarge(`The upload is larger than ${limits.totalBytes} bytes.`));
    });
    req.on('error', () => fail(malformed('The upload was interrupted.')));
    req.on('aborted', () => fail(malformed('The upload was interrupted.')));

    parser.on('file', (name, stream, info) => {
      const rule = Object.hasOwn(limits.files, name) ? limits.files[name] : undefined;
      if (!rule) return (stream.resume(), fail(malformed(`The upload has an unexpected part "${name.slice(0, 32)}".`)));
      if (info.mimeType !== limits.fileType) return (stream.resume(), fail(malformed(`The part "${name}" must be ${limits.fileType}.`)));
      // Counted when a part starts: a part's bytes may still be arriving when the next one begins.
      const started = (starts.get(name) ?? 0) + 1;
      starts.set(name, started);
      const list = form.files.get(name) ?? [];
      if (started > rule.maxCount) return (stream.resume(), fail(malformed(rule.maxCount === 1 ? `The upload has more than one "${name}".` : `The upload has more than ${rule.maxCount} ${name}s.`)));
      form.files.set(name, list);
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > rule.maxBytes) return (stream.resume(), fail(tooLarge(rule.tooLarge)));
        chunks.push(chunk);
      });
      stream.on('limit', () => fail(tooLarge(rule.tooLarge)));
      // A body that ends inside this part: the parser's error says so too.
      stream.on('error', () => fail(malformed('The capture is not valid multipart/form-data.')));
      open++;
      stream.on('end', () => {
        open--;
        if (!settled) list.push(Buffer.concat(chunks));
        finish();
      });
    });
    parser.on('field', (name, value, info) => {
      if (!Object.hasOwn(limits.fields, name)) return fail(malformed(`The upload has an unexpected field "${name.slice(0, 32)}".`));
      if (info.valueTruncated || Buffer.byteLength(value) > limits.fields[name]!) return fail(malformed(`The field "${name}" is too long.`));
      if (info.nameTruncated) return fail(malformed('A field name is too long.'));
      if (form.fields.has(name)) return fail(malformed(`The upload has more than one "${name}".`));
      form.fields.set(name, value);
    });
    parser.on('partsLimit', () => fail(malformed('The upload has too many parts.')));
    parser.on('filesLimit', () => fail(malformed('The upload has too many files.')));
    parser.on('fieldsLimit', () => fail(malformed('The upload has too many fields.')));
    parser.on('error', () => fail(malformed('The capture is not valid multipart/form-data.')));
    // A file part is complete when its stream ends; the form when the parser closes and every
    // part it started has ended.
    let open = 0;
    let closed = false;
    const finish = () => {
      if (settled || !closed || open > 0) return;
      settled = true;
      resolve(form);
    };
    parser.on('close', () => {
      closed = true;
      finish();
    });
    req.pipe(parser);
  });
}
