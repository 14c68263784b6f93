// Whether this process takes new work. Shutdown turns it off first: /readyz then answers 503 (a
// balancer's health check takes the instance out of rotation) while requests already on their way
// are still served, and answers carry `Connection: close` so kept-alive clients reconnect elsewhere.
import type { Server } from 'node:http';

export class Readiness {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  drain(): void {
    this.#draining = true;
  }

  /** Every answer of `server` sent while draining closes its connection. */
  closeConnectionsWhileDraining(server: Server): void {
    server.prependListener('request', (_req, res) => {
      if (this.#draining) res.setHeader('Connection', 'close');
    });
  }
}

/** The body /readyz answers with while draining (503). */
export const DRAINING = { status: 'not ready', reason: 'shutting down' } as const;
