// GET /v1/models: the models on the rate card, in OpenAI's list shape.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { currentRates } from '../pricing/rates.ts';
import type { AppEnv } from '../web/env.ts';
import { requireApiKey } from './key-auth.ts';

export function modelsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();

  app.get('/models', requireApiKey(ctx), async (c) => {
    const rates = await currentRates(ctx.db);
    return c.json({
      object: 'list',
      data: rates.map((r) => ({ id: r.model, object: 'model', created: Math.floor(r.created_at_ms / 1000), owned_by: 'tokentab' })),
    });
  });

  return app;
}
