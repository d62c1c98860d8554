// The /webhooks sub-app: a payment provider's signed events, with their own body limit; no
// cookies, sessions or CSRF (a webhook is verified by its signature).
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { tooLargeText, WEBHOOK_BODY_LIMIT_BYTES, limitBody } from '../web/body-limits.ts';
import type { AppEnv } from '../web/env.ts';
import { stripeWebhookRoutes } from './stripe.ts';

/** Mounted at /webhooks (src/app.tsx): paths here are below it. */
export function webhooksApp(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  app.use('*', limitBody({ maxSize: WEBHOOK_BODY_LIMIT_BYTES, onError: tooLargeText(WEBHOOK_BODY_LIMIT_BYTES) }));
  app.route('/', stripeWebhookRoutes(ctx));
  // Anything else below /webhooks/ is not found here, before the pages' CSRF check or session could see it.
  app.all('*', (c) => c.notFound());
  return app;
}
