// Static clients from CLIENTS_FILE. Shape is checked here with readable messages; the full
// metadata rules are oidc-provider's, applied at start-up by validateClients().
import { readFileSync } from 'node:fs';
import type { ClientMetadata } from 'oidc-provider';
import { z } from 'zod';

const clientSchema = z.looseObject({
  client_id: z.string().min(1),
  redirect_uris: z.array(z.url()).min(1),
  first_party: z.boolean().optional(),
});

export function loadClients(file: string): ClientMetadata[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`CLIENTS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = z.array(clientSchema).safeParse(raw);
  if (!parsed.success) {
    throw new Error(`CLIENTS_FILE (${file}): ${parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
  }
  const ids = new Set<string>();
  for (const c of parsed.data) {
    if (ids.has(c.client_id)) throw new Error(`CLIENTS_FILE (${file}): client_id "${c.client_id}" appears twice`);
    ids.add(c.client_id);
  }
  return parsed.data as ClientMetadata[];
}
