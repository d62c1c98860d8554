// /admin/purchases: every user's purchases and "Reconcile now". Mounted inside adminRoutes, behind its admin check.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { cursorSecret, decodeCursor, encodeCursor, type Cursor } from '../db/cursor.ts';
import type { PurchaseStatus } from '../db/schema.ts';
import { queryString } from '../filters.ts';
import type { AppEnv } from '../web/env.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render } from '../web/render.tsx';
import { AdminNav } from '../../views/admin/admin-nav.tsx';
import { AdminPurchases } from '../../views/admin/purchases.tsx';
import { adminActionsOn, reasonProblem } from './actions.ts';
import { allPurchasesPage, PURCHASE_STATUSES, reconcileByAdmin } from './purchases.ts';

export function purchaseRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();

  async function page(c: Context<AppEnv>, error: string | null = null, status: 200 | 400 | 422 = 200) {
    const statusText = c.req.query('status') ?? '';
    const filter = (PURCHASE_STATUSES as readonly string[]).includes(statusText) ? (statusText as PurchaseStatus) : null;
    const secret = await cursorSecret(db);
    const cursorText = c.req.query('cursor');
    const cursor = cursorText ? decodeCursor(secret, cursorText) : null;
    if (cursorText && !cursor) {
      error = 'That page link is not valid any more; start again from the first page.';
      status = 400;
    }
    const [found, actions] = await Promise.all([allPurchasesPage(db, filter, cursor), adminActionsOn(db, null, 20, ['reconcile'])]);
    const withCursor = (position: Cursor | null) => (position ? queryString({ status: filter ?? undefined, cursor: encodeCursor(secret, position) }) : null);
    const done = c.req.query('done');
    const notice = done && /^\d{1,9}\.\d{1,9}$/.test(done) ? `Reconciled: ${done.split('.')[0]} looked up, ${done.split('.')[1]} credited.` : null;
    return render(c, config, {
      title: 'Admin · Purchases',
      current: '/admin',
      status,
      page: () => (
        <>
          <h1>Purchases</h1>
          <AdminNav current="/admin/purchases" />
          <AdminPurchases rows={found.rows} statuses={PURCHASE_STATUSES} status={filter ?? ''} previousQuery={withCursor(found.newer)} nextQuery={withCursor(found.older)} canReconcile={ctx.billing !== null} notice={notice} error={error} actions={actions} />
        </>
      ),
    });
  }

  app.get('/admin/purchases', (c) => page(c));

  app.post('/admin/purchases/reconcile', async (c) => {
    const reason = (await formFields(c))('reason').trim();
    const reasonError = reasonProblem(reason);
    if (reasonError) return page(c, `Reason: ${reasonError}`, 422);
    if (!ctx.billing) return page(c, 'Payments are off (PAYMENTS=off): nothing to reconcile.', 422);
    const result = await reconcileByAdmin(ctx.billing, db, clock, c.get('user')!.id, reason);
    return redirectTo(c, `/admin/purchases?done=${result.checked}.${result.credited}`);
  });

  return app;
}
