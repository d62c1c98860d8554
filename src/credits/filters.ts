// The usage and ledger filters: read from a query string, checked, and turned back into a query
// string for links and exports. A bad value names its parameter and changes nothing.
import type { LedgerEntryType } from '../db/schema.ts';
import { decodeCursor, type Cursor } from '../db/cursor.ts';
import type { KeyFilter } from '../usage/usage-queries.ts';

export const LEDGER_TYPES: readonly LedgerEntryType[] = ['purchase', 'auto_recharge', 'grant', 'usage', 'refund', 'adjustment'];

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

const DAY_MS = 86_400_000;

function utcDay(value: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(ms).toISOString().startsWith(value) ? ms : null;
}

function dateRange(query: Query, errors: FilterErrors): DateRange {
  const from = text(query, 'from');
  const to = text(query, 'to');
  const fromMs = from === '' ? null : utcDay(from);
  const toMs = to === '' ? null : utcDay(to);
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

export function parseUsageFilters(query: Query, secret: Buffer, knownModels: readonly string[], ownKeyIds: readonly number[]): Parsed<UsageFilters> {
  const errors: FilterErrors = {};
  const raw = rawOf(query, ['model', 'key', 'from', 'to', 'cursor']);
  const model = text(query, 'model');
  if (model !== '' && !knownModels.includes(model)) errors.model = `model must be one of ${knownModels.join(', ')}, got "${model}"`;
  const keyText = text(query, 'key');
  let key: KeyFilter | null = null;
  if (keyText === 'playground') key = { kind: 'playground' };
  else if (keyText !== '') {
    const id = /^\d{1,15}$/.test(keyText) ? Number(keyText) : NaN;
    if (!ownKeyIds.includes(id)) errors.key = `key must be one of your API keys' ids or "playground", got "${keyText}"`;
    else key = { kind: 'key', id };
  }
  const range = dateRange(query, errors);
  const position = cursor(query, secret, errors);
  if (Object.keys(errors).length > 0) return { ok: false, errors, raw };
  return { ok: true, filters: { model: model || null, key, ...range, cursor: position, raw } };
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

/** A query string from filter values, leaving out empty ones (and the cursor unless given). */
export function queryString(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
