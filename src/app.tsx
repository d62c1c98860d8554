// createApp(config, deps): security headers, static files, each feature's routes, and the one onError.
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { serveStatic } from '@hono/node-server/serve-static';
import { isDemo, type Config } from './config.ts';
import type { Clock } from './clock.ts';
import type { DB } from './db/connect.ts';
import { currentRates } from './pricing/rates.ts';
import { Layout } from '../views/layout.tsx';
import { Home } from '../views/home.tsx';

export interface AppDeps {
  db: DB;
  clock: Clock;
  log?: (line: string) => void;
}

export function createApp(config: Config, deps: AppDeps) {
  const log = deps.log ?? ((line: string) => console.error(line));
  const app = new Hono();

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
    }),
  );
  app.use('/static/*', serveStatic({ root: './' }));

  app.get('/healthz', async (c) => {
    await deps.db.selectFrom('rates').select('id').limit(1).execute();
    return c.text('ok');
  });

  app.get('/', async (c) => {
    const rates = await currentRates(deps.db);
    return c.html(
      <Layout title="Welcome" demo={isDemo(config)}>
        <Home rates={rates} />
      </Layout>,
    );
  });

  app.onError((error, c) => {
    // The message may carry request data; the stack stays in the log, never in the page.
    log(`error ${c.req.method} ${c.req.path}: ${error.name}: ${error.message}`);
    return c.text('Something went wrong on our side. Please try again.', 500);
  });

  return app;
}
