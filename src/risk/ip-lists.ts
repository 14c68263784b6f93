// IP classification from lists the operator provides: one file per list in a directory
// (`tor.txt`, `vpn.txt`, `datacenter.txt`), one IPv4/IPv6 address or CIDR range per line, `#`
// comments. No network look-ups: the files are the only source. Used by the IdP's risk policy and
// the embedded verifier's IP analysis, so both classify an address the same way.
//
// Reloaded on change: a file's mtime and size are looked at, at most every `checkEveryMs`, when
// an address is classified; a changed file is parsed again. A file that no longer parses keeps the
// previous list (and the error is reported once per change); a missing file is an empty list.
import { statSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import path from 'node:path';

export const IP_LISTS = ['tor', 'vpn', 'datacenter'] as const;
export type IpListName = (typeof IP_LISTS)[number];
export type IpClass = Record<IpListName, boolean>;

export const listFile = (dir: string, name: IpListName) => path.join(dir, `${name}.txt`);

/** Parses a list; throws naming the source and line of the first bad entry. */
export function parseCidrList(text: string, source: string): { list: BlockList; entries: string[] } {
  const list = new BlockList();
  const entries: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [address, prefixText, extra] = line.split('/');
    const family = isIP(address ?? '');
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (!family || extra !== undefined || !/^\d+$/.test(prefixText ?? String(max)) || prefix < 0 || prefix > max) {
      throw new Error(`${source}:${i + 1}: "${line}" is not an IP address or CIDR range`);
    }
    list.addSubnet(address!, prefix, type);
    entries.push(`${address}/${prefix}`);
  });
  return { list, entries };
}

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
function normalise(ip: string): { address: string; type: 'ipv4' | 'ipv6' } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped ? mapped[1]! : ip;
  const family = isIP(address);
  return family ? { address, type: family === 4 ? 'ipv4' : 'ipv6' } : undefined;
}

type Loaded = { list: BlockList; stamp: string; entries: number };

export class IpLists {
  readonly dir: string;
  readonly #checkEveryMs: number;
  readonly #onError: (message: string) => void;
  readonly #loaded = new Map<IpListName, Loaded>();
  readonly #reported = new Set<string>();
  #checkedAt = -Infinity;

  constructor(dir: string, options: { checkEveryMs?: number; onError?: (message: string) => void } = {}) {
    this.dir = dir;
    this.#checkEveryMs = options.checkEveryMs ?? 5000;
    this.#onError = options.onError ?? (() => {});
    this.refresh(true);
  }

  /** Looks at the files (at most every checkEveryMs unless forced) and reparses the changed ones. */
  refresh(force = false): void {
    const now = Date.now();
    if (!force && now - this.#checkedAt < this.#checkEveryMs) return;
    this.#checkedAt = now;
    for (const name of IP_LISTS) {
      const file = listFile(this.dir, name);
      let stamp = 'missing';
      try {
        const st = statSync(file);
        stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch {
        // missing: an empty list
      }
      if (this.#loaded.get(name)?.stamp === stamp) continue;
      if (stamp === 'missing') {
        this.#loaded.set(name, { list: new BlockList(), stamp, entries: 0 });
        continue;
      }
      try {
        const { list, entries } = parseCidrList(readFileSync(file, 'utf8'), file);
        this.#loaded.set(name, { list, stamp, entries: entries.length });
      } catch (err) {
        const message = (err as Error).message;
        if (!this.#reported.has(`${stamp}:${message}`)) {
          this.#reported.add(`${stamp}:${message}`);
          this.#onError(`IP list ${name} not reloaded, the previous one stays: ${message}`);
        }
        if (!this.#loaded.has(name)) this.#loaded.set(name, { list: new BlockList(), stamp: 'invalid', entries: 0 });
      }
    }
  }

  classify(ip: string | null | undefined): IpClass {
    this.refresh();
    const n = ip ? normalise(ip) : undefined;
    const has = (name: IpListName) => (n ? (this.#loaded.get(name)?.list.check(n.address, n.type) ?? false) : false);
    return { tor: has('tor'), vpn: has('vpn'), datacenter: has('datacenter') };
  }

  /** Whether the list's file exists (a missing list says nothing, rather than "not listed"). */
  present(name: IpListName): boolean {
    this.refresh();
    const stamp = this.#loaded.get(name)?.stamp;
    return stamp !== undefined && stamp !== 'missing';
  }

  /** Entries per list, for the start-up log. */
  sizes(): Record<IpListName, number> {
    return Object.fromEntries(IP_LISTS.map((n) => [n, this.#loaded.get(n)?.entries ?? 0])) as Record<IpListName, number>;
  }
}
