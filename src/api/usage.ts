// GET /v1/usage/{requestId}: one call's usage record (usage-record.ts), its owner's only.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { usageNotFound } from '../errors/descriptions.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { requireApiKey } from './key-auth.ts';
import { findUsageRecord } from './usage-record.ts';

export function usageRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();

  app.get('/usage/:requestId', requireApiKey(ctx), async (c) => {
    const record = await findUsageRecord(ctx.db, c.get('user')!.id, c.req.param('requestId'));
    if (!record) return errorJson(c, usageNotFound(c.req.param('requestId')));
    return c.json(record);
  });

  return app;
}
