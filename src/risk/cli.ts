// `selfie-idp iplist …`: the operator's Tor / VPN / data-centre lists (src/risk/ip-lists.ts).
//   iplist import --list tor|vpn|datacenter --file F   validate F, then replace the list with it
//   iplist check IP                                     which lists hold IP (JSON)
// Running servers pick a replaced list up by themselves (its mtime changes). No network access:
// fetching the lists (e.g. the Tor project's exit list) is the operator's job.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { loadConfig } from '../config.ts';
import { UsageError } from '../usage-error.ts';
import { IP_LISTS, IpLists, listFile, parseCidrList } from './ip-lists.ts';
import type { IpListName } from './ip-lists.ts';

const MAX_BYTES = 64 * 1024 * 1024;

function importList(dir: string, args: string[]): number {
  const { values } = parseArgs({ args, options: { list: { type: 'string' }, file: { type: 'string' } }, strict: true });
  if (!values.list || !IP_LISTS.includes(values.list as IpListName)) throw new UsageError(`iplist import: --list must be one of ${IP_LISTS.join(', ')}`);
  if (!values.file) throw new UsageError('iplist import: --file FILE is required');
  let text: string;
  try {
    const buffer = readFileSync(values.file);
    if (buffer.length > MAX_BYTES) throw new Error('larger than 64 MB');
    text = buffer.toString('utf8');
  } catch (err) {
    throw new Error(`--file ${values.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  // Throws naming the file and line of the first bad entry; nothing is written then.
  const { entries } = parseCidrList(text, values.file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const target = listFile(dir, values.list as IpListName);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, `# imported from ${values.file} on ${new Date().toISOString()}\n${entries.join('\n')}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  // Atomic replace: a server never reads half a list.
  renameSync(temp, target);
  console.log(JSON.stringify({ list: values.list, entries: entries.length, file: target }));
  return 0;
}

function check(dir: string, args: string[]): number {
  const [ip, ...extra] = args;
  if (!ip || extra.length || !isIP(ip)) throw new UsageError('iplist check: expected one IPv4 or IPv6 address');
  const lists = new IpLists(dir, { onError: (m) => console.error(`selfie-idp: ${m}`) });
  console.log(JSON.stringify({ ip, ...lists.classify(ip) }));
  return 0;
}

export async function runIpList(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { ipListsDir } = loadConfig();
  if (sub === 'import') return importList(ipListsDir, rest);
  if (sub === 'check') return check(ipListsDir, rest);
  throw new UsageError(`iplist: expected "import" or "check", got ${sub ?? 'nothing'}`);
}
