// The usage and ledger filters: read from a query string, checked, and turned back into a query
// string for links and exports. A bad value names its parameter and changes nothing. One home for
// the Credits tab's tables and CSV exports and the JSON usage API (/v1/usage, /v1/usage/summary).
import type { DB } from './db/connect.ts';
import type { ApiKey, LedgerEntryType } from './db/schema.ts';
import { cursorSecret, decodeCursor, type Cursor } from './db/cursor.ts';
import { listApiKeys } from './keys/keys.ts';
import { DAY_MS, utcDay, utcMonthBounds } from './month.ts';
import { currentRates } from './pricing/rates.ts';
import type { KeyFilter } from './usage/usage-queries.ts';
import type { SummaryGroup, SummarySelection } from './usage/usage-summary.ts';

export const LEDGER_TYPES: readonly LedgerEntryType[] = ['purchase', 'auto_recharge', 'grant', 'usage', 'refund', 'adjustment', 'promo', 'expiry'];

export interface DateRange {
  /** Inclusive, first millisecond of the `from` day (UTC). */
  fromMs: number | null;
  /** Exclusive, first millisecond after the `to` day (UTC). */
  untilMs: number | null;
}

export interface UsageFilters extends DateRange {
  model: string | null;
  key: KeyFilter | null;
  cursor: Cursor | null;
  /** The raw values, to refill the form and build links. */
  raw: Record<string, string>;
}

export interface LedgerFilters extends DateRange {
  type: LedgerEntryType | null;
  cursor: Cursor | null;
  raw: Record<string, string>;
}

export type FilterErrors = Record<string, string>;
export type Parsed<T> = { ok: true; filters: T } | { ok: false; errors: FilterErrors; raw: Record<string, string> };

type Query = Record<string, string | undefined>;

function text(query: Query, name: string): string {
  return (query[name] ?? '').trim();
}

/** The first millisecond of a `YYYY-MM-DD` UTC day; null for anything else (2026-02-30 included). */
function parseUtcDay(value: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().startsWith(value) ? ms : null;
}

function dateRange(query: Query, errors: FilterErrors): DateRange {
  const from = text(query, 'from');
  const to = text(query, 'to');
  const fromMs = from === '' ? null : parseUtcDay(from);
  const toMs = to === '' ? null : parseUtcDay(to);
  if (from !== '' && fromMs === null) errors.from = `from must be a date as YYYY-MM-DD, got "${from}"`;
  if (to !== '' && toMs === null) errors.to = `to must be a date as YYYY-MM-DD, got "${to}"`;
  if (fromMs !== null && toMs !== null && toMs < fromMs) errors.to = 'to must be on or after from';
  return { fromMs, untilMs: toMs === null ? null : toMs + DAY_MS };
}

function cursor(query: Query, secret: Buffer, errors: FilterErrors): Cursor | null {
  const value = text(query, 'cursor');
  if (value === '') return null;
  const decoded = decodeCursor(secret, value);
  if (!decoded) errors.cursor = 'cursor is not valid: start again from the first page';
  return decoded;
}

function rawOf(query: Query, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, text(query, n)]).filter(([, v]) => v !== ''));
}

export function parseUsageFilters(query: Query, secret: Buffer, knownModels: readonly string[], ownKeys: readonly Pick<ApiKey, 'id' | 'name'>[]): Parsed<UsageFilters> {
  const errors: FilterErrors = {};
  const raw = rawOf(query, ['model', 'key', 'from', 'to', 'cursor']);
  const model = text(query, 'model');
  if (model !== '' && !knownModels.includes(model)) errors.model = `model must be one of ${knownModels.join(', ')}, got "${model}"`;
  const keyText = text(query, 'key');
  let key: KeyFilter | null = null;
  if (keyText === 'playground') key = { kind: 'playground' };
  else if (keyText !== '') {
    // An id, or (for scripts) a name that exactly one of the user's keys has.
    const id = /^\d{1,15}$/.test(keyText) ? Number(keyText) : NaN;
    const named = ownKeys.filter((k) => k.name === keyText);
    if (ownKeys.some((k) => k.id === id)) key = { kind: 'key', id };
    else if (named.length === 1) key = { kind: 'key', id: named[0]!.id };
    else if (named.length > 1) errors.key = `several of your API keys are named "${keyText}": give the key's id`;
    else errors.key = `key must be one of your API keys' ids or names, or "playground", got "${keyText}"`;
  }
  const range = dateRange(query, errors);
  const position = cursor(query, secret, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors, raw };
  return { ok: true, filters: { model: model || null, key, ...range, cursor: position, raw } };
}

/** The usage filters checked against this user's keys and the rate card: the table, the CSV export and the API read them alike. */
export async function readUsageFilters(db: DB, userId: number, query: Query) {
  const [secret, keys, rates] = await Promise.all([cursorSecret(db), listApiKeys(db, userId), currentRates(db)]);
  // currentRates has one row per model ever priced, so its models are every model a filter may name.
  const parsed = parseUsageFilters(query, secret, rates.map((r) => r.model), keys);
  return { parsed, secret, keys, rates };
}

export function parseLedgerFilters(query: Query, secret: Buffer): Parsed<LedgerFilters> {
  const errors: FilterErrors = {};
  const raw = rawOf(query, ['type', 'from', 'to', 'cursor']);
  const type = text(query, 'type');
  if (type !== '' && !LEDGER_TYPES.includes(type as LedgerEntryType)) errors.type = `type must be one of ${LEDGER_TYPES.join(', ')}, got "${type}"`;
  const range = dateRange(query, errors);
  const position = cursor(query, secret, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors, raw };
  return { ok: true, filters: { type: (type || null) as LedgerEntryType | null, ...range, cursor: position, raw } };
}

/** The purchases list takes only a page position. */
export function parsePurchasesQuery(query: Query, secret: Buffer): Parsed<{ cursor: Cursor | null; raw: Record<string, string> }> {
  const errors: FilterErrors = {};
  const raw = rawOf(query, ['cursor']);
  const position = cursor(query, secret, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors, raw };
  return { ok: true, filters: { cursor: position, raw } };
}

/** A query string from filter values, leaving out empty ones (and the cursor unless given). */
export function queryString(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The filters without the page's position: what an export (its Download CSV link, a CSV link) covers. */
export function withoutCursor(raw: Record<string, string>): Record<string, string> {
  const { cursor: _cursor, ...rest } = raw;
  return rest;
}

/** GET /v1/usage's page size: default and most. */
export const USAGE_API_DEFAULT_LIMIT = 100;
export const USAGE_API_MAX_LIMIT = 1_000;

/** GET /v1/usage's `limit`: rows per page, bounded; a bad one is put in `errors`. */
export function parseUsageListLimit(query: Query, errors: FilterErrors): number {
  const value = text(query, 'limit');
  if (value === '') return USAGE_API_DEFAULT_LIMIT;
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= USAGE_API_MAX_LIMIT)) errors.limit = `limit must be a whole number from 1 to ${USAGE_API_MAX_LIMIT}, got "${value}"`;
  return limit;
}

const SUMMARY_DIMENSIONS: readonly SummaryGroup[] = ['day', 'model', 'key'];
/** The longest range a summary covers, in days (a leap year), and the range it covers when none is given. */
export const SUMMARY_MAX_DAYS = 366;
export const SUMMARY_DEFAULT_DAYS = 30;

export interface SummaryQuery extends SummarySelection {
  /** In the order asked, each once; empty: one total. */
  groupBy: SummaryGroup[];
}

/**
 * GET /v1/usage/summary: from and to as the usage filters take them (UTC days, inclusive), `to`
 * today and `from` 29 days before `to` when not given, at most SUMMARY_MAX_DAYS days; group_by
 * values repeated or comma-joined.
 */
export function parseUsageSummary(
  query: Query,
  groupByValues: readonly string[],
  nowMs: number,
  knownModels: readonly string[],
  ownKeys: readonly Pick<ApiKey, 'id' | 'name'>[],
): { ok: true; summary: SummaryQuery } | { ok: false; errors: FilterErrors } {
  // A summary takes no cursor: it is left out, so the signing secret is never used.
  const parsed = parseUsageFilters({ ...query, cursor: undefined }, Buffer.alloc(32), knownModels, ownKeys);
  const errors: FilterErrors = parsed.ok ? {} : { ...parsed.errors };
  const groupBy: SummaryGroup[] = [];
  const asked = groupByValues.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  if (asked.length > SUMMARY_DIMENSIONS.length * 2) errors.group_by = `group_by has ${asked.length} values: name each of ${SUMMARY_DIMENSIONS.join(', ')} at most once`;
  else {
    for (const value of asked) {
      if (!SUMMARY_DIMENSIONS.includes(value as SummaryGroup)) {
        errors.group_by = `group_by must be ${SUMMARY_DIMENSIONS.join(', ')} (repeated or comma-joined), got "${value.slice(0, 40)}"`;
        break;
      }
      if (!groupBy.includes(value as SummaryGroup)) groupBy.push(value as SummaryGroup);
    }
  }
  if (!parsed.ok) return { ok: false, errors };
  // Today's first millisecond when `to` is not given.
  const toMs = parsed.filters.untilMs === null ? nowMs - (nowMs % DAY_MS) : parsed.filters.untilMs - DAY_MS;
  const fromMs = parsed.filters.fromMs ?? toMs - (SUMMARY_DEFAULT_DAYS - 1) * DAY_MS;
  if (toMs < fromMs) errors.to = parsed.filters.untilMs === null ? `to must be on or after from; not given, it is today (${utcDay(toMs)})` : 'to must be on or after from';
  else if ((toMs - fromMs) / DAY_MS + 1 > SUMMARY_MAX_DAYS) errors.from = `the range from ${utcDay(fromMs)} to ${utcDay(toMs)} is ${(toMs - fromMs) / DAY_MS + 1} days: a summary covers at most ${SUMMARY_MAX_DAYS}`;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, summary: { fromDay: utcDay(fromMs), toDay: utcDay(toMs), model: parsed.filters.model, key: parsed.filters.key, groupBy } };
}

/**
 * GET /v1/dashboard/billing/usage's start_date and end_date, as OpenAI took them: UTC days, the end
 * exclusive (NextChat asks from the 1st of the month to tomorrow). Not given: the 1st of this UTC month
 * and tomorrow. At most SUMMARY_MAX_DAYS days. Returned as the inclusive days the rollup is read by.
 */
export function parseBillingUsageRange(query: Query, nowMs: number): { ok: true; fromDay: string; toDay: string } | { ok: false; errors: FilterErrors } {
  const errors: FilterErrors = {};
  const day = (name: string, fallbackMs: number): number => {
    const value = text(query, name);
    if (value === '') return fallbackMs;
    const ms = parseUtcDay(value);
    if (ms === null) errors[name] = `${name} must be a date as YYYY-MM-DD, got "${value.slice(0, 40)}"`;
    return ms ?? fallbackMs;
  };
  const startMs = day('start_date', utcMonthBounds(nowMs).startMs);
  const endMs = day('end_date', nowMs - (nowMs % DAY_MS) + DAY_MS);
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (endMs <= startMs) return { ok: false, errors: { end_date: `end_date must be after start_date (${utcDay(startMs)}): the end day is not included` } };
  if ((endMs - startMs) / DAY_MS > SUMMARY_MAX_DAYS) return { ok: false, errors: { end_date: `the range from ${utcDay(startMs)} to ${utcDay(endMs)} is ${(endMs - startMs) / DAY_MS} days: at most ${SUMMARY_MAX_DAYS}` } };
  return { ok: true, fromDay: utcDay(startMs), toDay: utcDay(endMs - DAY_MS) };
}
