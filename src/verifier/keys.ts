// Every store key the verifier uses, in one place, so a reader can see the whole data model and
// nothing collides with the IdP's keys (which share the store and its prefix).
// A session's record, its job list and its jobs (webhooks, timers) share the hash tag {<session id>},
// so Redis Cluster keeps them in one slot and a status is saved with its webhook in one script
// (Store.writeAll, sessions/transition.ts).
export const K = {
  session: (id: string) => `verifier:session:{${id}}`,
  /** session_token → session_id, for the hosted page. */
  token: (token: string) => `verifier:token:${token}`,
  /** A single-use upload grant handed to one page load; holds the session it is bound to. */
  upload: (id: string) => `verifier:upload:${id}`,
  /** A browser that loaded a session's capture page (its cookie) → that session's id. */
  pageViewer: (viewer: string) => `verifier:page-viewer:${viewer}`,
  /** The viewer cookies handed out for one session (so erasure can find them). */
  sessionViewers: (sessionId: string) => `verifier:session-viewers:${sessionId}`,
  /** The queued jobs about one session: its timers and webhooks (so erasure can find them). */
  sessionJobs: (sessionId: string) => `verifier:session-jobs:{${sessionId}}`,
  /** The liveness challenge issued to one upload grant (FLASHING / ACTIVE_3D): at most one per grant. */
  challenge: (uploadId: string) => `verifier:challenge:${uploadId}`,
  /**
   * Liveness challenges issued to one session (all its page loads): capped, so that a client cannot
   * reload for new challenges until one fits a recording it holds (page/challenge.ts).
   */
  challengesIssued: (sessionId: string) => `verifier:challenges-issued:${sessionId}`,
  /** Challenge ids already answered: a second response to one challenge is refused. */
  challengeUsed: (challengeId: string) => `verifier:challenge-used:${challengeId}`,
  sessionNumber: () => 'verifier:counter:session-number',
  allSessions: () => 'verifier:index:sessions',
  vendorSessions: (vendorData: string) => `verifier:index:vendor:${vendorData}`,
  /** Sealed face template enrolled for a vendor_data (an account). Durable: no TTL. */
  template: (vendorData: string) => `verifier:template:${vendorData}`,
  /**
   * The 1:N search's view of the store (faces/changes.ts). A face it knows (an enrolled template or
   * a blocklist entry) has a pseudonymous ref; the ref names what it is while the face exists.
   */
  faceRef: (ref: string) => `verifier:face-ref:${ref}`,
  /** Every ref: what an instance reads to build its index. */
  faces: () => 'verifier:index:faces',
  /** Bumped on every change of a searchable face; instances compare it with what they have seen. */
  faceVersion: () => 'verifier:faces:version',
  /** Change n of the log: the ref that changed (short-lived; a gap means rebuild). */
  faceChange: (n: number) => `verifier:faces:change:${n}`,
  /** A blocklisted face (sealed template) and the session it came from. Durable. */
  blocklistEntry: (entryId: string) => `verifier:blocklist:${entryId}`,
  blocklist: () => 'verifier:index:blocklist',
  /** session_id → its blocklist entry id (one face per session). */
  blocklistBySession: (sessionId: string) => `verifier:blocklist-session:${sessionId}`,
  /** A vendor_data's blocklist entries, so erasure can unlink them. */
  blocklistByVendor: (vendorData: string) => `verifier:index:blocklist-vendor:${vendorData}`,
  media: (sessionId: string, name: string) => `verifier:media:${sessionId}:${name}`,
  lock: (name: string) => `verifier:lock:${name}`,
  /** A job's record; a session's jobs have ids from sessionJobId, so they live in the session's slot. */
  job: (id: string) => `verifier:job:${id}`,
  jobBucket: (bucket: number) => `verifier:jobs:${bucket}`,
  jobCursor: () => 'verifier:jobs:cursor',
  jobClaim: (id: string) => `verifier:job-claim:${id}`,
  /** Webhook events that ran out of retries, for the operator (and the decision endpoint is still there). */
  deadJobs: () => 'verifier:jobs:dead',
} as const;

/** The id of a job about one session (its webhook, its timers): carries the session's hash tag. */
export const sessionJobId = (sessionId: string, name: string) => `{${sessionId}}:${name}`;
