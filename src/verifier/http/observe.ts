// One log line per request, by route pattern: the path of a hosted page carries its session token
// (a bearer credential), so it is never logged.
import type { Logger } from '../../logger.ts';
import { observeRequests } from '../../http/observe.ts';

export { securityHeaders } from '../../http/observe.ts';

export function observe(log: Logger) {
  return observeRequests(log, { message: 'verifier request', fields: ({ ctx }) => ({ route: (ctx._matchedRoute as string | undefined) ?? 'other' }) });
}
