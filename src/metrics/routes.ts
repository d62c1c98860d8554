// The HTTP side of the metrics: a middleware that counts every answered request by its route pattern
// and status (and 402/429s by reason), and GET /metrics in Prometheus' text format behind a Bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../web/env.ts';
import type { DatabaseGauges } from './database-gauges.ts';
import type { Metrics } from './metrics.ts';

export const METRICS_PATH = '/metrics';

/** The methods labelled as themselves; Node parses a few dozen more, all counted as "other". */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts each request once its answer is ready. The route is Hono's matched pattern ("/v1/usage/:requestId",
 * "/*" for nothing matched), never the raw path, so the labels stay bounded whatever is asked for.
 * Scrapes of /metrics are not counted.
 */
export function countRequests(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.req.path === METRICS_PATH) return;
    const status = c.res.status;
    const method = METHODS.has(c.req.method) ? c.req.method : 'other';
    metrics.requestServed(method, c.req.routePath, status);
    if (status !== 402 && status !== 429) return;
    // Codes come from src/errors/descriptions.ts; anything else (or none) is one label, not a new series.
    const code = c.get('errorCode');
    metrics.refused(status, code && /^[a-z_]{1,64}$/.test(code) ? code : 'other');
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compared as digests, in constant time: the answer's timing says nothing about the token. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

/**
 * GET /metrics. `token`: the Bearer token asked for (401 without it); null serves it to anyone
 * who can reach the address (only for METRICS_LISTEN, a port of its own).
 */
export function metricsRoutes(metrics: Metrics, gauges: DatabaseGauges, token: string | null) {
  const app = new Hono<AppEnv>();
  app.get(METRICS_PATH, async (c) => {
    if (token !== null && !tokenMatches(c.req.header('authorization'), token)) {
      return c.text('a valid Bearer token (METRICS_TOKEN) is required\n', 401, { 'www-authenticate': 'Bearer' });
    }
    await gauges.refresh();
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  });
  return app;
}
