// createApp(config, deps): security headers, CSRF, body limits, sessions, each feature's routes, the one onError.
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Config } from './config.ts';
import type { Clock } from './clock.ts';
import type { DB } from './db/connect.ts';
import { createHasher, type Hasher } from './auth/hasher.ts';
import { authRoutes } from './auth/routes.tsx';
import { keysRoutes } from './keys/routes.tsx';
import { creditsRoutes } from './credits/routes.tsx';
import { billingRoutes } from './billing/routes.tsx';
import { settingsRoutes } from './settings/routes.tsx';
import { apiRoutes } from './api/routes.ts';
import { createGateway } from './gateway/create.ts';
import type { Gateway } from './gateway/gateway.ts';
import { errorBody } from './gateway/openai-wire.ts';
import { gatewayRoutes } from './gateway/routes.ts';
import { playgroundRoutes } from './playground/routes.tsx';
import { currentRates } from './pricing/rates.ts';
import { installLedgerPolicy } from './ledger/policy.ts';
import { spendingPolicy } from './spending-policy/policy.ts';
import type { AppEnv } from './web/env.ts';
import { loadSession } from './web/auth-middleware.ts';
import { API_BODY_LIMIT_BYTES, bytesText, closeAfterTooLarge, FORM_BODY_LIMIT_BYTES, PROMPT_FORM_PATHS, WEBHOOK_BODY_LIMIT_BYTES } from './web/body-limits.ts';
import { render } from './web/render.tsx';
import { Home } from '../views/home.tsx';

export interface AppDeps {
  db: DB;
  clock: Clock;
  /** Tests pass a cheaper hasher; production uses OWASP's scrypt cost. */
  hasher?: Hasher;
  log?: (line: string) => void;
  /** The metered gateway; server.ts passes its own so it can drain it on SIGTERM. */
  gateway?: Gateway;
}


/** The origins a state-changing form may come from (README, Security baseline). */
export function allowedOrigins(config: Config): string[] {
  if (config.publicUrlExplicit) return [new URL(config.publicUrl).origin];
  return [`http://localhost:${config.port}`, `http://127.0.0.1:${config.port}`];
}

/**
 * Past a form's limit: one line naming it. htmx swaps 413s (for the prompt forms' own answers), so
 * here it is told not to: this line would replace the form that was being filled in.
 */
const tooLarge = (limitBytes: number) => (c: Context) => {
  closeAfterTooLarge(c);
  if (c.req.header('HX-Request')) c.header('HX-Reswap', 'none');
  return c.text(`The request body is too large (at most ${bytesText(limitBytes)}).`, 413);
};

export function createApp(config: Config, deps: AppDeps) {
  // Every ledger write made through this app's routes and gateway runs the spending policy.
  installLedgerPolicy(spendingPolicy);
  const log = deps.log ?? ((line: string) => console.error(line));
  const hasher = deps.hasher ?? createHasher();
  const gateway = deps.gateway ?? createGateway(config, { db: deps.db, clock: deps.clock, log });
  const app = new Hono<AppEnv>();

  app.use(
    '*',
    secureHeaders({
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
    }),
  );
  app.use('/static/*', serveStatic({ root: './' }));

  // OpenAI's error shape, so SDKs raise it as an APIError with the status and this message.
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: API_BODY_LIMIT_BYTES,
      onError: (c) => {
        closeAfterTooLarge(c);
        return c.json(errorBody(`The request body is too large: the API takes at most ${bytesText(API_BODY_LIMIT_BYTES)}.`, 'invalid_request_error', 'request_too_large'), 413);
      },
    }),
  );
  app.use('/webhooks/*', bodyLimit({ maxSize: WEBHOOK_BODY_LIMIT_BYTES, onError: tooLarge(WEBHOOK_BODY_LIMIT_BYTES) }));
  const formLimit = bodyLimit({ maxSize: FORM_BODY_LIMIT_BYTES, onError: tooLarge(FORM_BODY_LIMIT_BYTES) });
  app.use('*', async (c, next) => {
    // The prompt forms apply the API's limit themselves, and answer it on their page.
    if (c.req.path.startsWith('/v1/') || c.req.path.startsWith('/webhooks/') || PROMPT_FORM_PATHS.has(c.req.path)) return next();
    return formLimit(c, next);
  });
  // Forms are checked by Origin (or Sec-Fetch-Site); the JSON API and webhooks carry no cookies.
  const formCsrf = csrf({ origin: allowedOrigins(config) });
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('/v1/') || c.req.path.startsWith('/webhooks/')) return next();
    return formCsrf(c, next);
  });
  const sessions = loadSession(config, deps.db, deps.clock);
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('/v1/') || c.req.path.startsWith('/static/')) return next();
    return sessions(c, next);
  });

  app.get('/healthz', async (c) => {
    await deps.db.selectFrom('rates').select('id').limit(1).execute();
    return c.text('ok');
  });

  app.get('/', async (c) => {
    if (c.get('user')) return c.redirect('/credits', 303);
    const rates = await currentRates(deps.db);
    return render(c, config, { title: 'Welcome', page: () => <Home rates={rates} /> });
  });

  app.route('/', authRoutes(config, { db: deps.db, clock: deps.clock, hasher, adminEmails: config.adminEmails, publicUrl: config.publicUrl }));
  app.route('/', keysRoutes(config, deps.db, deps.clock));
  app.route('/', creditsRoutes(config, deps.db, deps.clock));
  app.route('/', billingRoutes(config, { db: deps.db, clock: deps.clock, log }));
  app.route('/', settingsRoutes(config, deps.db, deps.clock));
  app.route('/', playgroundRoutes(config, deps.db, deps.clock, gateway));
  app.route('/', gatewayRoutes(gateway, deps.db, deps.clock, `${config.publicUrl}/credits#packages`));
  app.route('/', apiRoutes(deps.db, deps.clock));

  app.notFound((c) => {
    if (c.req.path.startsWith('/v1/')) {
      return c.json(errorBody(`Unknown route ${c.req.method} ${c.req.path}`, 'invalid_request_error', 'not_found'), 404);
    }
    return render(c, config, { title: 'Not found', status: 404, page: () => (
      <>
        <h1>Not found</h1>
        <p>
          There is nothing here. <a href="/">Go to the start page.</a>
        </p>
      </>
    ) });
  });

  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status === 403) {
      return c.text('This form was sent from another site, so it was refused. Open the page again and resend it.', 403);
    }
    if (error instanceof HTTPException) return error.getResponse();
    // Only the error's name and message: no headers, bodies or keys reach the log.
    log(`error ${c.req.method} ${c.req.path}: ${error.name}: ${error.message}`);
    if (c.req.path.startsWith('/v1/')) {
      return c.json(errorBody('Something went wrong on our side. Please try again.', 'server_error', 'internal_error'), 500);
    }
    return c.text('Something went wrong on our side. Please try again.', 500);
  });

  return app;
}
