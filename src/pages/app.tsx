// The pages sub-app: form body limits, the CSRF check, the session, and every page's routes (each
// feature's routes.tsx). The JSON API and the webhooks are their own sub-apps (src/api/, src/webhooks/).
import { Hono, type Context } from 'hono';
import { csrf } from 'hono/csrf';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import { authRoutes } from '../auth/routes.tsx';
import { keysRoutes } from '../keys/routes.tsx';
import { creditsRoutes } from '../credits/routes.tsx';
import { checkoutRoutes } from '../credits/checkout-routes.tsx';
import { settingsRoutes } from '../settings/routes.tsx';
import { playgroundRoutes } from '../playground/routes.tsx';
import { adminRoutes } from '../admin/routes.tsx';
import { currentRates } from '../pricing/rates.ts';
import { FORM_BODY_LIMIT_BYTES, PROMPT_FORM_PATHS, tooLargeText, limitBody } from '../web/body-limits.ts';
import type { AppEnv } from '../web/env.ts';
import { render } from '../web/render.tsx';
import { Home } from '../../views/home.tsx';
import { loadSession } from './sessions.ts';

/** The origins a state-changing form may come from (README, Security baseline). */
export function allowedOrigins(config: Config): string[] {
  if (config.publicUrlExplicit) return [new URL(config.publicUrl).origin];
  return [`http://localhost:${config.port}`, `http://127.0.0.1:${config.port}`];
}

/** Mounted last at / (src/app.tsx): whatever /v1 and /webhooks do not answer comes here. */
export function pagesApp(ctx: AppContext) {
  const { config } = ctx;
  const app = new Hono<AppEnv>();

  const formLimit = limitBody({ maxSize: FORM_BODY_LIMIT_BYTES, onError: tooLargeText(FORM_BODY_LIMIT_BYTES) });
  // The prompt forms apply the API's limit themselves, and answer it on their page.
  app.use('*', (c, next) => (PROMPT_FORM_PATHS.has(c.req.path) ? next() : formLimit(c, next)));
  // Forms are checked by Origin (or Sec-Fetch-Site).
  app.use('*', csrf({ origin: allowedOrigins(config) }));
  app.use('*', loadSession(ctx));

  app.get('/', async (c) => {
    if (c.get('user')) return c.redirect('/credits', 303);
    const rates = await currentRates(ctx.db);
    return render(c, config, { title: 'Welcome', page: () => <Home rates={rates} /> });
  });

  app.route('/', authRoutes(ctx));
  app.route('/', keysRoutes(ctx));
  app.route('/', creditsRoutes(ctx));
  app.route('/', checkoutRoutes(ctx));
  app.route('/', settingsRoutes(ctx));
  app.route('/', playgroundRoutes(ctx));
  app.route('/', adminRoutes(ctx));
  return app;
}

/** Any path nothing answers (a page's session is loaded by then, for the layout). */
export function notFoundPage(config: Config) {
  return (c: Context<AppEnv>) =>
    render(c, config, {
      title: 'Not found',
      status: 404,
      page: () => (
        <>
          <h1>Not found</h1>
          <p>
            There is nothing here. <a href="/">Go to the start page.</a>
          </p>
        </>
      ),
    });
}
