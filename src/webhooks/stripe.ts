// POST /webhooks/stripe: the signed event, verified over the raw body, then applied by billing's webhook handler.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { errorText, WebhookSignatureError } from '../billing/errors.ts';
import { handleStripeEvent, verifyStripeEvent } from '../billing/webhook.ts';
import { describeError } from '../errors/descriptions.ts';
import type { AppEnv } from '../web/env.ts';

export function stripeWebhookRoutes(ctx: AppContext) {
  const { config, billing, log } = ctx;
  const app = new Hono<AppEnv>();

  app.post('/stripe', async (c) => {
    if (!billing || billing.provider.mode !== 'stripe') return c.text('Stripe payments are not enabled on this server.', 404);
    // The raw body, exactly as received: the signature is over these bytes.
    const rawBody = await c.req.text();
    let event;
    try {
      event = verifyStripeEvent(rawBody, c.req.header('stripe-signature'), config.stripeWebhookSecret);
    } catch (error) {
      if (!(error instanceof WebhookSignatureError)) throw error;
      log(`webhook refused: ${error.message}`);
      const refused = describeError(error, config)!;
      return c.text(refused.message, refused.status);
    }
    try {
      const outcome = await handleStripeEvent(billing, event);
      return c.json({ received: true, outcome });
    } catch (error) {
      // Nothing was recorded, so Stripe's retry applies the event again from scratch.
      log(`webhook ${event.type} ${event.id} failed: ${errorText(error)}`);
      return c.json({ received: false, error: 'processing failed; retry later' }, 500);
    }
  });

  return app;
}
