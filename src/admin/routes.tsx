// /admin: the operator console's pages (README, Operators: the console). Anyone who is not an admin
// gets the same 404 as a path that does not exist, on every /admin URL and method, so the console's
// existence is not told. Forms are the pages' own: CSRF-checked by Origin (src/pages/app.tsx), no scripts.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { cursorSecret, decodeCursor, encodeCursor, type Cursor } from '../db/cursor.ts';
import { loadLedgerPart, loadUsagePart } from '../credits/page-data.ts';
import { queryString } from '../filters.ts';
import { listApiKeys } from '../keys/keys.ts';
import { walletSummary } from '../ledger/wallet.ts';
import { creditsExactText, parseCreditsToMc } from '../money-text.ts';
import { isAdmin } from '../users/admin-access.ts';
import { findUserById } from '../users/users.ts';
import { recentSessionsOf } from '../auth/sessions.ts';
import type { AppEnv } from '../web/env.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render, wantsPartial } from '../web/render.tsx';
import { UsageFilters, UsageResults } from '../../views/credits/usage-table.tsx';
import { LedgerFilters, LedgerResults } from '../../views/credits/ledger-table.tsx';
import { AdminNav } from '../../views/admin/admin-nav.tsx';
import { AdminUserPage, type FormProblem } from '../../views/admin/user-page.tsx';
import { UsersList } from '../../views/admin/users-list.tsx';
import { adminActionsOn, reasonProblem } from './actions.ts';
import { rateCardRoutes } from './rate-routes.tsx';
import { packageRoutes } from './package-routes.tsx';
import { purchaseRoutes } from './purchase-routes.tsx';
import { allPurchasesPage } from './purchases.ts';
import { readHealth, workerStatuses } from './health.ts';
import { runAudit, auditRunsPage } from '../audit-runs.ts';
import type { Violation } from '../audit.ts';
import { HealthPage } from '../../views/admin/health.tsx';
import { MAX_EMAIL_SEARCH_CHARS, USER_SORTS, usersPage, type UserSort } from './user-list.ts';
import { AdjustBeyondAvailableError, AdminTargetNotFoundError, adjustByAdmin, disableByAdmin, enableByAdmin, endSessionsByAdmin, grantByAdmin, revokeKeyByAdmin, type ByAdmin } from './user-actions.ts';

/** The most one grant or adjustment moves: a billion credits (a typo's extra zeros are refused). */
export const MAX_ADMIN_AMOUNT_MC = 1_000_000_000_000;
const ACTIONS_SHOWN = 50;
const SESSIONS_SHOWN = 50;
const PURCHASES_SHOWN = 20;

const NOTICES: Record<string, string> = {
  grant: 'Credits granted.',
  adjust: 'Balance adjusted.',
  'revoke-key': 'The key was revoked: calls with it now fail.',
  'end-sessions': 'Every session of this user was ended.',
  disable: 'The user is disabled: sign-in and API calls are refused.',
  enable: 'The user is enabled again.',
};

type Query = Record<string, string | undefined>;

/** The table queries a user's page was asked with (each table's own URL). */
interface UserTables {
  usage?: Query;
  ledger?: Query;
  purchases?: Query;
}

/** A whole id as URLs carry it, or null. */
function idParam(text: string | undefined): number | null {
  return text !== undefined && /^[1-9]\d{0,14}$/.test(text) ? Number(text) : null;
}

export function adminRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();
  const hidden = async (c: Context<AppEnv>, next: () => Promise<void>) => {
    if (!isAdmin(c.get('user'), config)) return c.notFound();
    await next();
  };
  app.use('/admin', hidden);
  app.use('/admin/*', hidden);

  app.get('/admin', (c) => c.redirect('/admin/users', 303));

  app.get('/admin/users', async (c) => {
    const errors: Record<string, string> = {};
    const search = (c.req.query('search') ?? '').trim();
    if (search.length > MAX_EMAIL_SEARCH_CHARS) errors.search = `At most ${MAX_EMAIL_SEARCH_CHARS} characters.`;
    const sortText = c.req.query('sort') ?? 'activity';
    const sort: UserSort = (USER_SORTS as readonly string[]).includes(sortText) ? (sortText as UserSort) : 'activity';
    const secret = await cursorSecret(db);
    const cursorText = c.req.query('cursor');
    const cursor = cursorText ? decodeCursor(secret, cursorText) : null;
    if (cursorText && !cursor) errors.cursor = 'That page link is not valid any more; start again from the first page.';
    const failed = Object.keys(errors).length > 0;
    const page = failed ? { rows: [], newer: null, older: null } : await usersPage(db, { search, sort, cursor });
    const withCursor = (position: typeof page.newer) => (position ? queryString({ search, sort, cursor: encodeCursor(secret, position) }) : null);
    return render(c, config, {
      title: 'Admin · Users',
      current: '/admin',
      status: failed ? 400 : 200,
      page: () => (
        <>
          <h1>Users</h1>
          <AdminNav current="/admin/users" />
          <UsersList search={search.slice(0, MAX_EMAIL_SEARCH_CHARS)} sort={sort} rows={page.rows} previousQuery={withCursor(page.newer)} nextQuery={withCursor(page.older)} errors={errors} />
        </>
      ),
    });
  });

  /**
   * A user's page. `tables`: the query of the usage, ledger or purchases table when the page is that
   * table's own URL (/admin/users/7/usage?model=…): its filters and keyset page; the others show their first page.
   */
  async function userPage(c: Context<AppEnv>, userId: number, problem: FormProblem | null = null, status: 200 | 400 | 404 | 422 = 200, tables: UserTables = {}) {
    const user = await findUserById(db, userId);
    if (!user) return c.notFound();
    const creditsCtx = { config, db, clock };
    const secret = await cursorSecret(db);
    const purchasesCursorText = tables.purchases?.cursor;
    const purchasesCursor = purchasesCursorText ? decodeCursor(secret, purchasesCursorText) : null;
    const purchasesError = purchasesCursorText && !purchasesCursor ? 'That page link is not valid any more; start again from the first page.' : null;
    const [wallet, keys, sessions, purchases, usage, ledger, actions] = await Promise.all([
      walletSummary(db, userId),
      listApiKeys(db, userId),
      recentSessionsOf(db, userId, SESSIONS_SHOWN),
      purchasesError ? { rows: [], newer: null, older: null } : allPurchasesPage(db, null, purchasesCursor, userId, PURCHASES_SHOWN),
      loadUsagePart(creditsCtx, userId, tables.usage ?? {}),
      loadLedgerPart(creditsCtx, userId, tables.ledger ?? {}),
      adminActionsOn(db, userId, ACTIONS_SHOWN),
    ]);
    const notice = NOTICES[c.req.query('done') ?? ''] ?? null;
    const base = `/admin/users/${userId}`;
    const purchasesQuery = (position: Cursor | null) => (position ? queryString({ cursor: encodeCursor(secret, position) }) : null);
    const refused = purchasesError !== null || usage.errors !== null || ledger.errors !== null;
    return render(c, config, {
      title: `Admin · ${user.email}`,
      current: '/admin',
      status: status === 200 && refused ? 400 : status,
      page: () => (
        <>
          <AdminNav current="/admin/users" />
          <AdminUserPage
            user={user}
            wallet={wallet}
            keys={keys}
            sessions={sessions}
            purchases={{ rows: purchases.rows, newerQuery: purchasesQuery(purchases.newer), olderQuery: purchasesQuery(purchases.older), error: purchasesError }}
            usage={{
              filters: { raw: usage.raw, rates: usage.rates, keys: usage.keys, errors: usage.errors ?? undefined, path: `${base}/usage` },
              results: { ...usage.results, noUsageYet: false, embedded: { basePath: `${base}/usage` } },
            }}
            ledger={{ raw: ledger.raw, filterErrors: ledger.errors ?? undefined, path: `${base}/ledger`, results: { ...ledger.results, embedded: { basePath: `${base}/ledger` } } }}
            actions={actions}
            problem={problem}
            notice={notice}
            self={user.id === c.get('user')!.id}
          />
        </>
      ),
    });
  }

  /**
   * The usage and ledger tables at their own URLs, as on the Credits tab: the full page, or for htmx
   * the results alone (the filter form too, out of band, when a filter is refused), pushing the canonical URL.
   */
  for (const table of ['usage', 'ledger'] as const) {
    app.get(`/admin/users/:id/${table}`, async (c) => {
      const userId = idParam(c.req.param('id'));
      if (userId === null) return c.notFound();
      const query = c.req.query();
      if (!wantsPartial(c)) return userPage(c, userId, null, 200, { [table]: query });
      if (!(await findUserById(db, userId))) return c.notFound();
      const path = `/admin/users/${userId}/${table}`;
      const creditsCtx = { config, db, clock };
      c.header('Vary', 'HX-Request');
      if (table === 'usage') {
        const usage = await loadUsagePart(creditsCtx, userId, query);
        c.header('HX-Push-Url', `${path}${queryString(usage.raw)}#usage`);
        return c.html(
          <>
            <UsageResults {...usage.results} noUsageYet={false} embedded={{ basePath: path }} />
            {usage.errors ? <UsageFilters raw={usage.raw} rates={usage.rates} keys={usage.keys} errors={usage.errors} path={path} oob /> : null}
          </>,
          usage.errors ? 400 : 200,
        );
      }
      const ledger = await loadLedgerPart(creditsCtx, userId, query);
      c.header('HX-Push-Url', `${path}${queryString(ledger.raw)}#ledger`);
      return c.html(
        <>
          <LedgerResults {...ledger.results} embedded={{ basePath: path }} />
          {ledger.errors ? <LedgerFilters raw={ledger.raw} errors={ledger.errors} path={path} oob /> : null}
        </>,
        ledger.errors ? 400 : 200,
      );
    });
  }

  app.get('/admin/users/:id/purchases', async (c) => {
    const userId = idParam(c.req.param('id'));
    return userId === null ? c.notFound() : userPage(c, userId, null, 200, { purchases: c.req.query() });
  });

  app.get('/admin/users/:id', async (c) => {
    const userId = idParam(c.req.param('id'));
    return userId === null ? c.notFound() : userPage(c, userId);
  });

  /**
   * One action's POST: the target must exist, the reason is required; `run` does the action (and
   * writes its admin_actions row) or answers a FormProblem. A plain form that worked gets a 303 to the
   * user's page with a notice, so a refresh never sends it again.
   */
  function action(path: string, form: (c: Context<AppEnv>) => string, run: (c: Context<AppEnv>, by: ByAdmin, field: (name: string) => string) => Promise<Record<string, string> | null>) {
    app.post(`/admin/users/:id/${path}`, async (c) => {
      const userId = idParam(c.req.param('id'));
      if (userId === null) return c.notFound();
      if (!(await findUserById(db, userId))) return c.notFound();
      const field = await formFields(c);
      const reason = field('reason').trim();
      const values = { amount: field('amount'), reason: field('reason') };
      const formId = form(c);
      const reasonError = reasonProblem(reason);
      if (reasonError) return userPage(c, userId, { form: formId, values, errors: { reason: reasonError } }, 422);
      try {
        const errors = await run(c, { adminUserId: c.get('user')!.id, userId, reason }, field);
        if (errors) return userPage(c, userId, { form: formId, values, errors }, 422);
      } catch (error) {
        if (error instanceof AdminTargetNotFoundError) return c.notFound();
        throw error;
      }
      return redirectTo(c, `/admin/users/${userId}?done=${path.startsWith('keys/') ? 'revoke-key' : path}`);
    });
  }

  /** The amount field in credits (e.g. "25", "-0.5"): millicredits, or the field's problem. */
  function amountOf(text: string, allowNegative: boolean): number | string {
    const mc = parseCreditsToMc(text);
    if (mc === null) return 'A number of credits with at most 3 decimals, e.g. 25 or 0.5.';
    if (mc === 0 || (!allowNegative && mc < 0)) return allowNegative ? 'Must not be 0.' : 'Must be more than 0.';
    if (Math.abs(mc) > MAX_ADMIN_AMOUNT_MC) return `At most ${creditsExactText(MAX_ADMIN_AMOUNT_MC)} credits at a time.`;
    return mc;
  }

  action('grant', () => 'grant', async (_c, by, field) => {
    const amount = amountOf(field('amount'), false);
    if (typeof amount === 'string') return { amount };
    await grantByAdmin(db, clock, by, amount);
    return null;
  });

  action('adjust', () => 'adjust', async (_c, by, field) => {
    const amount = amountOf(field('amount'), true);
    if (typeof amount === 'string') return { amount };
    try {
      await adjustByAdmin(db, clock, by, amount);
    } catch (error) {
      if (!(error instanceof AdjustBeyondAvailableError)) throw error;
      return { amount: `At most ${creditsExactText(error.availableMc)} credits can be taken now: the rest of the balance is held for calls in flight, or there is no more. Nothing was taken.` };
    }
    return null;
  });

  action('keys/:keyId/revoke', (c) => `revoke-key-${c.req.param('keyId')}`, async (c, by) => {
    const keyId = idParam(c.req.param('keyId'));
    if (keyId === null) throw new AdminTargetNotFoundError('no such key');
    await revokeKeyByAdmin(db, clock, by, keyId);
    return null;
  });

  action('end-sessions', () => 'end-sessions', async (_c, by) => {
    await endSessionsByAdmin(db, clock, by);
    return null;
  });

  action('disable', () => 'disable', async (_c, by) => {
    // Disabling oneself would lock the console's last door from inside.
    if (by.userId === by.adminUserId) return { reason: 'You cannot disable your own account.' };
    await disableByAdmin(db, clock, by);
    return null;
  });

  action('enable', () => 'enable', async (_c, by) => {
    await enableByAdmin(db, clock, by);
    return null;
  });

  /** The health page; `violations` are the audit's just run (POST), null otherwise. */
  async function healthPage(c: Context<AppEnv>, violations: Violation[] | null) {
    const nowMs = clock.now();
    const secret = await cursorSecret(db);
    const cursorText = c.req.query('cursor');
    const cursor = cursorText ? decodeCursor(secret, cursorText) : null;
    const cursorError = cursorText && !cursor ? 'That page link is not valid any more; start again from the first page.' : null;
    const [health, runs] = await Promise.all([readHealth(db, nowMs), cursorError ? { rows: [], newer: null, older: null } : auditRunsPage(db, cursor)]);
    const withCursor = (position: Cursor | null) => (position ? queryString({ cursor: encodeCursor(secret, position) }) : null);
    return render(c, config, {
      title: 'Admin · Health',
      current: '/admin',
      status: cursorError ? 400 : 200,
      page: () => (
        <>
          <h1>Health</h1>
          <AdminNav current="/admin/health" />
          <HealthPage health={health} violations={violations} nowMs={nowMs} auditRuns={runs.rows} newerQuery={withCursor(runs.newer)} olderQuery={withCursor(runs.older)} cursorError={cursorError} workers={workerStatuses(health, config, nowMs)} />
        </>
      ),
    });
  }

  app.get('/admin/health', (c) => healthPage(c, null));
  // A POST, not a link: each run is kept in the history, and a page elsewhere must not start one.
  app.post('/admin/health/audit', async (c) => healthPage(c, await runAudit(db, clock, 'console', c.get('user')!.id)));

  app.route('/', rateCardRoutes(ctx));
  app.route('/', packageRoutes(ctx));
  app.route('/', purchaseRoutes(ctx));
  return app;
}
