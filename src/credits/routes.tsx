// /credits: the Credits tab and each of its parts at its own URL (a partial for htmx, the full page
// otherwise), the usage detail, the estimator, and the CSV exports (session, Bearer key or CSV link).
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { Clock } from '../clock.ts';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { requireUser } from '../web/auth-middleware.ts';
import { requireUserOrApiKey } from '../api/key-auth.ts';
import { csvLinkAuth } from './csv-link-auth.ts';
import { csvLinkRoutes } from './csv-link-routes.tsx';
import { CSV_LINK_PARAM } from '../exports/csv-links.ts';
import { bytesText, closeAfterTooLarge, PROMPT_FORM_BODY_LIMIT_BYTES, limitBody } from '../web/body-limits.ts';
import { formFields } from '../web/form-data.ts';
import { redirectTo, render, wantsPartial } from '../web/render.tsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeError } from '../errors/descriptions.ts';
import { MAX_CODE_INPUT_LENGTH, redeemPromoCode } from '../promo/codes.ts';
import { RedeemForm, type RedeemFormProps } from '../../views/credits/redeem-form.tsx';
import { currentRates } from '../pricing/rates.ts';
import { walletSummary } from '../ledger/wallet.ts';
import { ledgerQuery } from '../ledger/ledger-queries.ts';
import { spendThisMonth, usageDetail, usageQuery } from '../usage/usage-queries.ts';
import { batchedCsv } from '../exports/batched-export.ts';
import { keyPrefixMap, LEDGER_HEADER, ledgerLine, USAGE_HEADER, usageLine } from '../exports/csv.ts';
import { cursorSecret } from '../db/cursor.ts';
import { dismissNotice } from '../alerts/notices.ts';
import { estimateRequest, parseEstimateForm, type Estimate } from './estimate.ts';
import { parseLedgerFilters, queryString, readUsageFilters, type FilterErrors } from '../filters.ts';
import { loadChartPart, loadLedgerPart, loadOverview, loadPageExtras, loadPurchasesPart, loadUsagePart, modelLabels } from './page-data.ts';
import { SpendChartFilters, SpendChartResults } from '../../views/credits/spend-chart.tsx';
import { CreditsPage } from '../../views/credits/credits-page.tsx';
import { PurchasesList } from '../../views/billing/purchases-list.tsx';
import { BalanceCard } from '../../views/credits/balance-card.tsx';
import { UsageFilters, UsageResults } from '../../views/credits/usage-table.tsx';
import { LedgerFilters, LedgerResults } from '../../views/credits/ledger-table.tsx';
import { UsageDetailView } from '../../views/credits/usage-detail.tsx';
import { EstimateResult, type EstimatorValues } from '../../views/credits/estimator.tsx';
import { SpendThisMonth } from '../../views/credits/spend.tsx';
import { PackagesGrid } from '../../views/credits/packages.tsx';
import { RateCard } from '../../views/credits/rate-card.tsx';
import { activePackages, packageOffers } from '../pricing/packages.ts';
import { backToTable, tableUrl } from './table-links.ts';

type Query = Record<string, string | undefined>;

export function creditsRoutes(ctx: AppContext) {
  const { config, db, clock } = ctx;
  const app = new Hono<AppEnv>();
  const csvAuth = requireUserOrApiKey(ctx);
  app.use('/credits', requireUser);
  app.use('/notices/*', requireUser);
  const linkAuth = csvLinkAuth(ctx);
  // An export is fetched with a CSV link (a tool that cannot send a header), a Bearer key or a session.
  app.use('/credits/*', (c, next) => {
    if (!c.req.path.endsWith('.csv')) return requireUser(c, next);
    return c.req.query(CSV_LINK_PARAM) === undefined ? csvAuth(c, next) : linkAuth(c, next);
  });

  /** The whole tab, with the usage and ledger tables in the state the query asks for. */
  async function fullPage(
    c: Context<AppEnv>,
    parts: {
      usageQuery?: Query;
      ledgerQuery?: Query;
      purchasesQuery?: Query;
      chartQuery?: Query;
      estimator?: { values: EstimatorValues; estimate: Estimate | null; errors?: Record<string, string> };
      redeem?: RedeemFormProps;
      status?: ContentfulStatusCode;
    } = {},
  ) {
    const user = c.get('user')!;
    const [overview, extras, usage, ledger, chart] = await Promise.all([
      loadOverview(ctx, user.id),
      loadPageExtras(ctx, user, parts.purchasesQuery),
      loadUsagePart(ctx, user.id, parts.usageQuery ?? {}),
      loadLedgerPart(ctx, user.id, parts.ledgerQuery ?? {}),
      loadChartPart(ctx, user.id, parts.chartQuery ?? {}),
    ]);
    const estimator = parts.estimator ?? { values: { text: '', model: overview.rates[0]?.model ?? '', outputTokens: '' }, estimate: null };
    const status = parts.status ?? (usage.errors || ledger.errors || chart.errors || extras.purchases.errors ? 400 : estimator.errors ? 422 : 200);
    return render(c, config, {
      title: 'Credits',
      current: '/credits',
      status,
      page: () => (
        <CreditsPage
          wallet={overview.wallet}
          promo={overview.promo}
          limits={overview.limits}
          notices={extras.notices}
          outOfCredits={overview.outOfCredits}
          newAccount={overview.newAccount}
          canBuy={overview.canBuy}
          thresholdMc={extras.thresholdMc}
          offers={extras.offers}
          rates={overview.rates}
          modelLabels={modelLabels(overview.rates)}
          spend={extras.spend}
          runOutDays={overview.runOutDays}
          chart={chart}
          usage={{ filters: { raw: usage.raw, rates: usage.rates, keys: usage.keys, errors: usage.errors ?? undefined }, results: usage.results }}
          ledger={{ raw: ledger.raw, filterErrors: ledger.errors ?? undefined, results: ledger.results }}
          estimator={estimator}
          redeem={parts.redeem}
          purchases={<PurchasesList {...extras.purchases.list} />}
        />
      ),
    });
  }

  app.get('/credits', (c) => fullPage(c));

  /**
   * A table at its own URL: the full page, or for htmx the results alone, pushing the canonical URL
   * (no empty filters, and the table's anchor so a reload lands at it) rather than the form's raw query. A bad filter answers 400, and `view` adds
   * the filter form out of band to mark the field (only then, so focus stays put otherwise).
   */
  async function tablePart<P extends { raw: Record<string, string>; errors: FilterErrors | null }>(
    c: Context<AppEnv>,
    path: '/credits/usage' | '/credits/ledger',
    load: (userId: number, query: Query) => Promise<P>,
    view: (part: P) => Child,
  ) {
    const query = c.req.query();
    if (!wantsPartial(c)) return fullPage(c, path === '/credits/usage' ? { usageQuery: query } : { ledgerQuery: query });
    const part = await load(c.get('user')!.id, query);
    c.header('Vary', 'HX-Request');
    c.header('HX-Push-Url', tableUrl(path, queryString(part.raw)));
    return c.html(<>{view(part)}</>, part.errors ? 400 : 200);
  }

  app.get('/credits/usage', (c) =>
    tablePart(c, '/credits/usage', (userId, query) => loadUsagePart(ctx, userId, query), (usage) => (
      <>
        <UsageResults {...usage.results} />
        {usage.errors ? <UsageFilters raw={usage.raw} rates={usage.rates} keys={usage.keys} errors={usage.errors} oob /> : null}
      </>
    )),
  );

  app.get('/credits/ledger', (c) =>
    tablePart(c, '/credits/ledger', (userId, query) => loadLedgerPart(ctx, userId, query), (ledger) => (
      <>
        <LedgerResults {...ledger.results} />
        {ledger.errors ? <LedgerFilters raw={ledger.raw} errors={ledger.errors} oob /> : null}
      </>
    )),
  );

  // A promo code: 303 back to the tab (HX-Redirect under htmx), whose balance card and ledger show the
  // credit; a refused one re-renders the form (alone under htmx) with the field marked, nothing credited.
  app.post('/credits/redeem', async (c) => {
    const typed = (await formFields(c))('code');
    try {
      await redeemPromoCode(db, clock, c.get('user')!.id, typed);
    } catch (error) {
      const described = describeError(error, config);
      if (!described) throw error;
      // Echo back at most what a code can be, so a huge field is never written into the page.
      const redeem = { value: typed.slice(0, MAX_CODE_INPUT_LENGTH), error: described.message };
      if (wantsPartial(c)) return c.html(<RedeemForm {...redeem} />, described.status);
      return fullPage(c, { redeem, status: described.status });
    }
    return redirectTo(c, '/credits#balance-card');
  });

  // The purchases list a page at a time: the section alone for htmx (Newer / Older), the tab otherwise.
  app.get('/credits/purchases', async (c) => {
    const query = c.req.query();
    if (!wantsPartial(c)) return fullPage(c, { purchasesQuery: query });
    const part = await loadPurchasesPart(ctx, c.get('user')!.id, query);
    c.header('Vary', 'HX-Request');
    return c.html(<PurchasesList {...part.list} />, part.errors ? 400 : 200);
  });

  // Spend over time at its own URL: the full page (landing at the chart), or for htmx the chart alone,
  // pushing the canonical URL; a bad range answers 400 with the form out of band to mark the field.
  app.get('/credits/chart', async (c) => {
    const query = c.req.query();
    if (!wantsPartial(c)) return fullPage(c, { chartQuery: query });
    const part = await loadChartPart(ctx, c.get('user')!.id, query);
    c.header('Vary', 'HX-Request');
    c.header('HX-Push-Url', `/credits/chart${queryString(part.raw)}#spend-chart`);
    return c.html(
      <>
        <SpendChartResults {...part} />
        {part.errors ? <SpendChartFilters {...part} oob /> : null}
      </>,
      part.errors ? 400 : 200,
    );
  });

  app.get('/credits/usage/:requestId', async (c) => {
    const detail = await usageDetail(db, c.get('user')!.id, c.req.param('requestId'));
    if (!detail) {
      return render(c, config, { title: 'Not found', status: 404, current: '/credits', page: () => <p>No call with that request id on your account.</p> });
    }
    const rates = await currentRates(db);
    const label = modelLabels(rates).get(detail.usage.model) ?? detail.usage.model;
    const view = () => <UsageDetailView detail={detail} modelLabel={label} back={backToTable(c.req.query('back'))} />;
    return render(c, config, { title: `Call ${detail.usage.request_id}`, current: '/credits', page: view, partial: view });
  });

  // A prompt as large as the API takes; past it, the estimate's place says so (the form, and the
  // text typed in it, stay as they are under htmx).
  const promptLimit = limitBody({
    maxSize: PROMPT_FORM_BODY_LIMIT_BYTES,
    onError: (c) => {
      closeAfterTooLarge(c);
      const errors = { text: `The prompt is too large to estimate: at most ${bytesText(PROMPT_FORM_BODY_LIMIT_BYTES)}, as the API takes.` };
      if (wantsPartial(c)) return c.html(<EstimateResult estimate={null} errors={errors} />, 413);
      return fullPage(c, { estimator: { values: { text: '', model: '', outputTokens: '' }, estimate: null, errors }, status: 413 });
    },
  });

  app.post('/credits/estimate', promptLimit, async (c) => {
    const field = await formFields(c);
    const values: EstimatorValues = { text: field('text'), model: field('model'), outputTokens: field('output_tokens').trim() };
    const parsed = parseEstimateForm(values, await currentRates(db, 'chat'));
    const errors = parsed.ok ? undefined : parsed.errors;
    let estimate: Estimate | null = null;
    // The wallet is read only when there is an estimate to show (a valid form with some text).
    if (parsed.ok && values.text !== '') {
      const wallet = await walletSummary(db, c.get('user')!.id);
      estimate = await estimateRequest(values.text, parsed.outputTokens, parsed.rate, config.roundingMode, wallet.availableMc);
    }
    if (wantsPartial(c)) return c.html(<EstimateResult estimate={estimate} errors={errors} />, errors ? 422 : 200);
    return fullPage(c, { estimator: { values, estimate, errors } });
  });

  // Every part of the tab also answers at its own URL: a partial for htmx, the full page's
  // frame around it otherwise. Each loads only what it shows.
  app.get('/credits/balance', async (c) => {
    const overview = await loadOverview(ctx, c.get('user')!.id);
    const card = () => <BalanceCard wallet={overview.wallet} outOfCredits={overview.outOfCredits} canBuy={overview.canBuy} limits={overview.limits} promo={overview.promo} newAccount={overview.newAccount} runOutDays={overview.runOutDays} />;
    return render(c, config, { title: 'Balance', current: '/credits', page: card, partial: card });
  });
  app.get('/credits/packages', async (c) => {
    const offers = packageOffers(await activePackages(db));
    const grid = () => <PackagesGrid offers={offers} canBuy={config.payments !== 'off'} />;
    return render(c, config, { title: 'Packages', current: '/credits', page: grid, partial: grid });
  });
  app.get('/credits/rates', async (c) => {
    const rates = await currentRates(db);
    const card = () => <RateCard rates={rates} />;
    return render(c, config, { title: 'Rate card', current: '/credits', page: card, partial: card });
  });
  app.get('/credits/spend', async (c) => {
    const [monthSpend, rates] = await Promise.all([spendThisMonth(db, c.get('user')!.id, clock.now()), currentRates(db)]);
    const spend = () => <SpendThisMonth spend={monthSpend} modelLabels={modelLabels(rates)} />;
    return render(c, config, { title: 'Spend this month', current: '/credits', page: spend, partial: spend });
  });

  app.route('/', csvLinkRoutes(ctx));

  app.post('/notices/:id/dismiss', async (c) => {
    const id = Number(c.req.param('id'));
    const dismissed = Number.isSafeInteger(id) && (await dismissNotice(db, c.get('user')!.id, id, clock.now()));
    if (!dismissed) return c.notFound();
    return wantsPartial(c) ? c.body(null, 200) : c.redirect('/credits', 303);
  });

  app.get('/credits/usage.csv', async (c) => {
    const userId = c.get('user')!.id;
    const { parsed, keys } = await readUsageFilters(db, userId, c.req.query());
    if (!parsed.ok) return c.text(`${Object.values(parsed.errors)[0]}\n`, 400);
    const prefixes = keyPrefixMap(keys);
    return csvResponse(`usage-${today(clock)}.csv`, batchedCsv(usageQuery(db, userId, parsed.filters), USAGE_HEADER, (row) => usageLine(row, prefixes)));
  });

  app.get('/credits/ledger.csv', async (c) => {
    const parsed = parseLedgerFilters(c.req.query(), await cursorSecret(db));
    if (!parsed.ok) return c.text(`${Object.values(parsed.errors)[0]}\n`, 400);
    return csvResponse(`ledger-${today(clock)}.csv`, batchedCsv(ledgerQuery(db, c.get('user')!.id, parsed.filters), LEDGER_HEADER, ledgerLine));
  });

  return app;
}

const today = (clock: Clock) => new Date(clock.now()).toISOString().slice(0, 10);

function csvResponse(filename: string, body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  });
}
