// Step: delete a session this sign-in must not use (another sign-in's, or one opened past a limit).
import { DiditApiError } from '../../../didit/index.ts';
import type { Verification } from '../verification.ts';

export async function deleteStaleSession(verification: Verification, sessionId: string): Promise<void> {
  try {
    await verification.client.deleteSession(sessionId);
  } catch (err) {
    // Already gone (finished and removed, or deleted by a concurrent request): the goal is reached.
    if (err instanceof DiditApiError && err.status === 404) return;
    throw err;
  }
}
