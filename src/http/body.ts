// Bounded body readers for our own routes. oidc-provider parses its own bodies, so there is no
// global body parser in front of it.
import type { Context } from 'koa';

export class HttpError extends Error {
  readonly status: number;
  readonly expose = true;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limitBytes) throw new HttpError(413, `request body is larger than ${limitBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new HttpError(413, `request body is larger than ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readForm(ctx: Context, limitBytes = 16 * 1024): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new HttpError(415, 'expected a form (application/x-www-form-urlencoded)');
  return new URLSearchParams((await readRawBody(ctx, limitBytes)).toString('utf8'));
}

export async function readJson(ctx: Context, limitBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw new HttpError(415, 'expected application/json');
  const raw = await readRawBody(ctx, limitBytes);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
