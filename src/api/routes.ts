// The JSON API's account routes: the models on the rate card and the key owner's credits.
import { Hono } from 'hono';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { walletSummary } from '../ledger/wallet.ts';
import { currentRates } from '../pricing/rates.ts';
import { creditsJsonNumber } from '../money-text.ts';
import { requireApiKey } from '../web/auth-middleware.ts';
import type { AppEnv } from '../web/env.ts';

export function apiRoutes(db: DB, clock: Clock) {
  const app = new Hono<AppEnv>();
  // Per route, as gatewayRoutes does: a path-wide check would also run on the other /v1 routes.
  const auth = requireApiKey(db, clock);

  app.get('/v1/models', auth, async (c) => {
    const rates = await currentRates(db);
    return c.json({
      object: 'list',
      data: rates.map((r) => ({ id: r.model, object: 'model', created: Math.floor(r.created_at_ms / 1000), owned_by: 'tokentab' })),
    });
  });

  app.get('/v1/credits', auth, async (c) => {
    const wallet = await walletSummary(db, c.get('user')!.id);
    return c.json({
      balanceCredits: creditsJsonNumber(wallet.balanceMc),
      availableCredits: creditsJsonNumber(wallet.availableMc),
      heldCredits: creditsJsonNumber(wallet.heldMc),
      heldCalls: wallet.heldCalls,
      balanceMillicredits: wallet.balanceMc,
      availableMillicredits: wallet.availableMc,
      heldMillicredits: wallet.heldMc,
    });
  });

  return app;
}
