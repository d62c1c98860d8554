// Gathers what the Credits tab's full page, its tables and its balance card show for one user.
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { ApiKey, Rate, User } from '../db/schema.ts';
import { walletSummary, type WalletSummary } from '../ledger/wallet.ts';
import { livePromoGrants, type LivePromo } from '../ledger/promo-grants.ts';
import { ledgerPage } from '../ledger/ledger-queries.ts';
import { isOutOfCredits } from '../pricing/output-limit.ts';
import { limitsSummary, type LimitsSummary } from '../settings/summary.ts';
import { activeNotices } from '../alerts/notices.ts';
import { currentRates, modelLabel } from '../pricing/rates.ts';
import { hasAnyUsage, spendThisMonth, usagePage } from '../usage/usage-queries.ts';
import { purchasesPage } from '../billing/purchases.ts';
import { recentSpendMc, runOutDays } from '../usage/run-out.ts';
import { cursorSecret, encodeCursor } from '../db/cursor.ts';
import { parseLedgerFilters, parsePurchasesQuery, queryString, readUsageFilters, withoutCursor, type FilterErrors } from '../filters.ts';
import { activePackages, packageOffers } from '../pricing/packages.ts';
import type { Page } from '../db/keyset.ts';
import type { UsageResultsProps } from '../../views/credits/usage-table.tsx';
import type { LedgerResultsProps } from '../../views/credits/ledger-table.tsx';
import type { PurchasesListProps } from '../../views/billing/purchases-list.tsx';
import type { SpendChartSectionProps } from '../../views/credits/spend-chart.tsx';
import { listApiKeys } from '../keys/keys.ts';
import { loadSpendChart, parseChartQuery } from './spend-chart.ts';

type Query = Record<string, string | undefined>;

export interface CreditsContext {
  config: Config;
  db: DB;
  clock: Clock;
}

export function modelLabels(rates: Rate[]): Map<string, string> {
  return new Map(rates.map((r) => [r.model, modelLabel(r)]));
}

/** Links for Newer / Older: the current filters with the page's cursors. */
function pagerQueries(secret: Buffer, raw: Record<string, string>, page: Page<unknown>) {
  const withCursor = (cursor: string | undefined) => queryString({ ...raw, cursor });
  return {
    newerQuery: page.newer ? withCursor(encodeCursor(secret, page.newer)) : null,
    olderQuery: page.older ? withCursor(encodeCursor(secret, page.older)) : null,
  };
}

export interface UsagePart {
  raw: Record<string, string>;
  errors: FilterErrors | null;
  results: UsageResultsProps;
  rates: Rate[];
  keys: Pick<ApiKey, 'id' | 'name' | 'prefix'>[];
}

export async function loadUsagePart(ctx: CreditsContext, userId: number, query: Query): Promise<UsagePart> {
  const { parsed, secret, keys, rates } = await readUsageFilters(ctx.db, userId, query);
  const common = { modelLabels: modelLabels(rates), publicUrl: ctx.config.publicUrl, keyLabels: new Map(keys.map((k) => [k.id, k.name])) };
  if (!parsed.ok) {
    return { raw: parsed.raw, errors: parsed.errors, rates, keys, results: { ...common, rows: [], listQuery: queryString(parsed.raw), newerQuery: null, olderQuery: null, csvHref: '/credits/usage.csv', noUsageYet: false, errors: parsed.errors } };
  }
  const page = await usagePage(ctx.db, userId, parsed.filters);
  const noUsageYet = page.rows.length === 0 && !(await hasAnyUsage(ctx.db, userId));
  return {
    raw: parsed.filters.raw,
    errors: null,
    rates,
    keys,
    results: { ...common, rows: page.rows, listQuery: queryString(parsed.filters.raw), ...pagerQueries(secret, parsed.filters.raw, page), csvHref: `/credits/usage.csv${queryString(withoutCursor(parsed.filters.raw))}`, noUsageYet },
  };
}

export interface LedgerPart {
  raw: Record<string, string>;
  errors: FilterErrors | null;
  results: LedgerResultsProps;
}

export async function loadLedgerPart(ctx: CreditsContext, userId: number, query: Query): Promise<LedgerPart> {
  const secret = await cursorSecret(ctx.db);
  const parsed = parseLedgerFilters(query, secret);
  if (!parsed.ok) return { raw: parsed.raw, errors: parsed.errors, results: { rows: [], listQuery: queryString(parsed.raw), newerQuery: null, olderQuery: null, csvHref: '/credits/ledger.csv', errors: parsed.errors } };
  const page = await ledgerPage(ctx.db, userId, parsed.filters);
  return {
    raw: parsed.filters.raw,
    errors: null,
    results: { rows: page.rows, listQuery: queryString(parsed.filters.raw), ...pagerQueries(secret, parsed.filters.raw, page), csvHref: `/credits/ledger.csv${queryString(withoutCursor(parsed.filters.raw))}` },
  };
}

export interface PurchasesPart {
  errors: FilterErrors | null;
  list: PurchasesListProps;
}

/** One page of the purchases list, at the position the query's cursor names (a bad cursor: its error, no rows). */
export async function loadPurchasesPart(ctx: CreditsContext, userId: number, query: Query): Promise<PurchasesPart> {
  const secret = await cursorSecret(ctx.db);
  const parsed = parsePurchasesQuery(query, secret);
  if (!parsed.ok) return { errors: parsed.errors, list: { purchases: [], newerQuery: null, olderQuery: null, error: parsed.errors.cursor ?? null } };
  const page = await purchasesPage(ctx.db, userId, parsed.filters.cursor, ctx.clock.now());
  return { errors: null, list: { purchases: page.rows, ...pagerQueries(secret, parsed.filters.raw, page), error: null } };
}

export interface Overview {
  wallet: WalletSummary;
  outOfCredits: boolean;
  canBuy: boolean;
  limits: LimitsSummary;
  rates: Rate[];
  promo: LivePromo[];
  /** No credit has ever reached the account (no ledger entry): a welcome, not an out-of-credits alarm. */
  newAccount: boolean;
  /** Whole days the balance lasts at the last 7 days' rate; null with no spend (runOutDays). */
  runOutDays: number | null;
}

/** Everything the balance card shows: every page that shows or swaps the card loads it here. */
export async function loadOverview(ctx: CreditsContext, userId: number): Promise<Overview> {
  const [wallet, rates, limits, promo, anyEntry, spentMc] = await Promise.all([
    walletSummary(ctx.db, userId),
    currentRates(ctx.db),
    limitsSummary(ctx.db, userId, ctx.clock.now()),
    livePromoGrants(ctx.db, userId),
    ctx.db.selectFrom('ledger_entries').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst(),
    recentSpendMc(ctx.db, userId, ctx.clock.now()),
  ]);
  return {
    wallet, rates, limits, promo, newAccount: anyEntry === undefined, runOutDays: runOutDays(wallet.balanceMc, spentMc),
    outOfCredits: isOutOfCredits(wallet.availableMc, rates, ctx.config.roundingMode), canBuy: ctx.config.payments !== 'off',
  };
}

/** The rest of the full tab: packages, spend this month, notices and a page of purchases. */
export async function loadPageExtras(ctx: CreditsContext, user: User, purchasesQuery: Query = {}) {
  const [packages, spend, notices, purchases] = await Promise.all([
    activePackages(ctx.db),
    spendThisMonth(ctx.db, user.id, ctx.clock.now()),
    activeNotices(ctx.db, user.id, ctx.clock.now()),
    loadPurchasesPart(ctx, user.id, purchasesQuery),
  ]);
  return { offers: packageOffers(packages), spend, notices, purchases, thresholdMc: user.low_balance_threshold_mc };
}

/** Spend over time: the range and grouping the query asks for, and the chart's numbers from the daily rollup. */
export async function loadChartPart(ctx: CreditsContext, userId: number, query: Query): Promise<SpendChartSectionProps> {
  const parsed = parseChartQuery(query, ctx.clock.now());
  const [rates, keys, chart] = await Promise.all([currentRates(ctx.db), listApiKeys(ctx.db, userId), parsed.ok ? loadSpendChart(ctx.db, userId, parsed.selection) : null]);
  return { raw: parsed.raw, errors: parsed.ok ? undefined : parsed.errors, chart, modelLabels: modelLabels(rates), keys };
}
