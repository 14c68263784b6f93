import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listen, and say where, as a URL a person can open (0.0.0.0 shows as localhost). */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${actual}`;
}

/**
 * Stop accepting, let in-flight requests finish until `deadline` (default: 2 s from now), then cut
 * what is left; idle keep-alive sockets do not hold shutdown.
 */
export async function closeGracefully(server: Server, deadline = Date.now() + 2000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()));
  cut.unref();
  await closed;
  clearTimeout(cut);
}
