// GET /v1/credits: the key owner's balance, available and held credits.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { walletSummary } from '../ledger/wallet.ts';
import { creditsJsonNumber } from '../money-text.ts';
import type { AppEnv } from '../web/env.ts';
import { requireApiKey } from './key-auth.ts';

export function apiCreditsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();

  app.get('/credits', requireApiKey(ctx), async (c) => {
    const wallet = await walletSummary(ctx.db, c.get('user')!.id);
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
