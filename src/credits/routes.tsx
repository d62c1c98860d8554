// /credits: the Credits tab (its parts grow in the Credits tab issue).
import { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { walletSummary } from '../ledger/wallet.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { render } from '../web/render.tsx';
import { BalanceCard } from '../../views/credits/balance-card.tsx';

export function creditsRoutes(config: Config, db: DB, _clock: Clock) {
  const app = new Hono<AppEnv>();
  app.use('/credits', requireUser);
  app.use('/credits/*', requireUser);

  app.get('/credits', async (c) => {
    const wallet = await walletSummary(db, c.get('user')!.id);
    return render(c, config, {
      title: 'Credits',
      current: '/credits',
      page: () => (
        <>
          <h1>Credits</h1>
          <BalanceCard wallet={wallet} />
        </>
      ),
    });
  });

  return app;
}
