// The Prometheus endpoint on its own listener (METRICS_HOST:METRICS_PORT, 127.0.0.1:9464 by
// default), never on the public port: request rates by route, store errors and process figures
// are for the operator's scraper, not for whoever can reach the IdP. A bare node:http server, since
// it answers one path.
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { closeGracefully, listen } from '../http/listen.ts';

export type MetricsServer = { url: string; close: () => Promise<void> };

export async function startMetricsServer(registry: Registry, port: number, host: string): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('metrics collection failed\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: metrics are at /metrics\n');
  });
  try {
    const url = await listen(server, port, host);
    return { url: `${url}/metrics`, close: () => closeGracefully(server) };
  } catch (err) {
    // The variable names the fix (another process on 9464, a second instance on one host).
    throw new Error(`METRICS_PORT: cannot listen on ${host}:${port} (${(err as Error).message}); set METRICS_PORT (0 picks a free port) or METRICS_HOST`);
  }
}
