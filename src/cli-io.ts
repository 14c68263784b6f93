// What the command-line tools share: walking their arguments, one JSON line per result, and
// reading a local file with a stable error code instead of an exception's text.
import fs from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { UsageError } from './usage-error.ts';

export function jsonLine(stream: Writable, value: unknown): void {
  stream.write(JSON.stringify(value) + '\n');
}

export type LocalFileErrorCode = 'FILE_NOT_FOUND' | 'FILE_UNREADABLE' | 'FILE_TOO_LARGE';

export class LocalFileError extends Error {
  readonly code: LocalFileErrorCode;
  constructor(code: LocalFileErrorCode) {
    super(code);
    this.code = code;
  }
}

/** Reads a regular file of at most `maxBytes`; the size is checked before anything is read. */
export async function readLocalFile(file: string, maxBytes: number): Promise<Buffer> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (e) {
    throw new LocalFileError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE');
  }
  if (!stat.isFile()) throw new LocalFileError('FILE_UNREADABLE');
  if (stat.size > maxBytes) throw new LocalFileError('FILE_TOO_LARGE');
  return fs.readFile(file);
}

/**
 * Walks argv; `value()` takes the option's argument (a UsageError naming the option when it is
 * missing); `rest()` takes every argument left (after `--`) and ends the walk.
 */
export function* eachArg(argv: readonly string[]): Generator<{ arg: string; value: () => string; rest: () => string[] }> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    yield {
      arg,
      value: () => {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`${arg} needs a value`);
        return v;
      },
      rest: () => {
        const left = argv.slice(i + 1);
        i = argv.length;
        return left;
      },
    };
  }
}
