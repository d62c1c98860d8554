// createApp(ctx): the pages' security headers (nosniff alone on /v1) and static files, then three sub-apps, each with
// its own middleware: /v1 (src/api/app.ts), /webhooks (src/webhooks/app.ts) and the pages (src/pages/app.tsx).
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppContext } from './context.ts';
import { apiApp } from './api/app.ts';
import { describeError, INTERNAL_ERROR } from './errors/descriptions.ts';
import { notFoundPage, pagesApp } from './pages/app.tsx';
import { countRequests, metricsRoutes } from './metrics/routes.ts';
import { webhooksApp } from './webhooks/app.ts';
import type { AppEnv } from './web/env.ts';

export function createApp(ctx: AppContext) {
  const { config, db, log } = ctx;
  const app = new Hono<AppEnv>();

  // First, so it sees every answer, the refusals of the middleware below included.
  app.use('*', countRequests(ctx.metrics));
  // The pages' headers (CSP, frame and referrer rules, HSTS) are for browsers rendering pages: /v1
  // answers JSON to programs, so it skips them and carries only nosniff, which keeps a browser from
  // reading a completion's text as HTML; every metered call used to build them (architecture.md,
  // Where a metered call's time goes).
  const pageHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'", 'https://checkout.stripe.com'],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    strictTransportSecurity: config.publicUrl.startsWith('https://') ? 'max-age=15552000; includeSubDomains' : false,
  });
  app.use('*', async (c, next) => {
    if (!isApiPath(c.req.path)) return pageHeaders(c, next);
    await next();
    c.res.headers.set('x-content-type-options', 'nosniff');
  });
  app.use('/static/*', serveStatic({ root: './' }));
  // A missing file is not a page: no session is read for it.
  app.all('/static/*', (c) => c.notFound());

  app.get('/healthz', async (c) => {
    await db.selectFrom('rates').select('id').limit(1).execute();
    return c.text('ok');
  });

  // With METRICS_TOKEN, /metrics behind it; without, the pages' 404 (README, Metrics).
  if (config.metricsToken !== null) app.route('/', metricsRoutes(ctx.metrics, ctx.metricsGauges, config.metricsToken));

  // In this order: each sub-app answers every path under it, and the pages take the rest.
  app.route('/v1', apiApp(ctx));
  app.route('/webhooks', webhooksApp(ctx));
  app.route('/', pagesApp(ctx));
  app.notFound(notFoundPage(config));

  // The pages' and webhooks' errors (the API answers its own in JSON): one line of text.
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status !== 403) return error.getResponse();
    const described = describeError(error, config);
    if (described) {
      c.set('errorCode', described.code);
      return c.text(described.message, described.status, described.headers);
    }
    // Only the error's name and message: no headers, bodies or keys reach the log.
    log(`error ${c.req.method} ${c.req.path}: ${error.name}: ${error.message}`);
    return c.text(INTERNAL_ERROR.message, INTERNAL_ERROR.status);
  });

  return app;
}

/** /v1 and everything under it: the API's, answered by its sub-app (src/api/app.ts). */
function isApiPath(path: string): boolean {
  return path.startsWith('/v1/') || path === '/v1';
}

/** METRICS_LISTEN's server: GET /metrics (with METRICS_TOKEN when it is set) and nothing else. */
export function metricsApp(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  app.route('/', metricsRoutes(ctx.metrics, ctx.metricsGauges, ctx.config.metricsToken));
  return app;
}
