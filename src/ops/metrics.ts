// Prometheus metrics. Route labels come from a closed set so a scanner cannot blow up cardinality.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/index.ts';

export type Metrics = {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  storeErrors: Counter<'operation'>;
};

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'selfie_idp_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'selfie_idp_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'selfie_idp_store_errors_total',
      help: 'Store operations that failed (connection lost, timeouts)',
      labelNames: ['operation'],
      registers: [registry],
    }),
  };
}

// oidc-provider's routes are not @koa/router routes, so they are named here.
const PROVIDER_ROUTES: [RegExp, string][] = [
  [/^\/\.well-known\/openid-configuration$/, '/.well-known/openid-configuration'],
  [/^\/jwks$/, '/jwks'],
  [/^\/auth(\/[^/]+)?$/, '/auth'],
  [/^\/token$/, '/token'],
  [/^\/token\/introspection$/, '/token/introspection'],
  [/^\/token\/revocation$/, '/token/revocation'],
  [/^\/me$/, '/me'],
  [/^\/session\/end(\/confirm|\/success)?$/, '/session/end'],
];

export function routeLabel(matchedRoute: string | undefined, path: string): string {
  if (matchedRoute) return matchedRoute;
  for (const [pattern, label] of PROVIDER_ROUTES) if (pattern.test(path)) return label;
  return 'other';
}

/** Wraps a store so every rejected operation is counted, whatever the implementation. */
export function instrumentStore(store: Store, metrics: Metrics): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          return result.catch((err: unknown) => {
            metrics.storeErrors.inc({ operation: String(prop) });
            throw err;
          });
        }
        return result;
      };
    },
  });
}
