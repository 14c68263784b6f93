// What every part of the verifier is handed. Built once in server.ts (or by a test).
import type { Logger } from '../logger.ts';
import type { Store } from '../store/index.ts';
import type { VerifierConfig } from './config.ts';
import type { FacePort } from './face-port.ts';
import type { JobQueue } from './queue/jobs.ts';
import type { Workflow } from './workflows.ts';
import type { Readiness } from '../ops/readiness.ts';
import type { IpLists } from '../risk/ip-lists.ts';
import type { FaceSearchIndex } from './faces/search-index.ts';

export type VerifierDeps = {
  config: VerifierConfig;
  store: Store;
  log: Logger;
  face: FacePort;
  /** This instance's 1:N index of enrolled and blocklisted faces, kept in step through the store. */
  faces: FaceSearchIndex;
  queue: JobQueue;
  workflows: Map<string, Workflow>;
  /** SHA-256 of every accepted API key: the configured ones plus the embedded IdP's. */
  apiKeyHashes: Buffer[];
  /** The operator's Tor / VPN / data-centre lists (IP_LISTS_DIR); absent: those IP analysis fields are null (unknown). */
  ipLists?: IpLists;
  /** Turned off first on shutdown (/readyz 503); absent: always ready while the store answers. */
  readiness?: Readiness;
};
