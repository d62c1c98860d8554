// Reading usage: a filtered page of the usage table, one row explained, and spend this month.
// Every query is scoped to one user.
import type { DB } from '../db/connect.ts';
import type { Cursor } from '../db/cursor.ts';
import type { ApiKey, Usage } from '../db/schema.ts';
import { keysetQuery, toPage, type Page } from '../db/keyset.ts';
import { utcMonth } from '../month.ts';

/** The usage table's key filter: a key id, or the playground's calls (no key). */
export type KeyFilter = { kind: 'key'; id: number } | { kind: 'playground' };

/** Which rows to read: the Credits tab's filters, as checked there, fit this shape. */
export interface UsageSelection {
  model: string | null;
  key: KeyFilter | null;
  /** Inclusive, and exclusive: epoch ms. */
  fromMs: number | null;
  untilMs: number | null;
}

export const USAGE_PAGE_SIZE = 25;

/** The filtered usage rows without order or position: shared by the table and the CSV export. */
export function usageQuery(db: DB, userId: number, filters: UsageSelection) {
  let query = db.selectFrom('usage').selectAll().where('user_id', '=', userId);
  if (filters.model) query = query.where('model', '=', filters.model);
  if (filters.key?.kind === 'key') query = query.where('api_key_id', '=', filters.key.id);
  if (filters.key?.kind === 'playground') query = query.where('api_key_id', 'is', null);
  if (filters.fromMs !== null) query = query.where('created_at_ms', '>=', filters.fromMs);
  if (filters.untilMs !== null) query = query.where('created_at_ms', '<', filters.untilMs);
  return query;
}

export async function usagePage(db: DB, userId: number, filters: UsageSelection & { cursor: Cursor | null }, pageSize = USAGE_PAGE_SIZE): Promise<Page<Usage>> {
  const fetched = await keysetQuery(usageQuery(db, userId, filters), filters.cursor, pageSize).execute();
  return toPage(fetched, filters.cursor, pageSize);
}

export async function hasAnyUsage(db: DB, userId: number): Promise<boolean> {
  return (await db.selectFrom('usage').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst()) !== undefined;
}

export interface UsageDetail {
  usage: Usage;
  apiKey: Pick<ApiKey, 'id' | 'name' | 'prefix'> | null;
}

/** undefined for another user's request id: the caller answers 404, never data. One statement: the row and its key. */
export async function usageDetail(db: DB, userId: number, requestId: string): Promise<UsageDetail | undefined> {
  const row = await db
    .selectFrom('usage as u')
    .leftJoin('api_keys as k', 'k.id', 'u.api_key_id')
    .selectAll('u')
    .select(['k.id as key_id', 'k.name as key_name', 'k.prefix as key_prefix'])
    .where('u.request_id', '=', requestId)
    .where('u.user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { key_id, key_name, key_prefix, ...usage } = row;
  return { usage, apiKey: key_id === null || key_name === null || key_prefix === null ? null : { id: key_id, name: key_name, prefix: key_prefix } };
}

export interface SpendLine {
  chargedMc: number;
  calls: number;
}

export interface ModelSpendLine extends SpendLine {
  model: string;
}

/** Data only: the page words it ("Playground", the key's name and prefix). */
export interface KeySpendLine extends SpendLine {
  /** null: the playground's calls (no key). */
  apiKeyId: number | null;
  /** null when the key row is not found. */
  keyName: string | null;
  keyPrefix: string | null;
}

export interface MonthSpend {
  month: string;
  totalMc: number;
  calls: number;
  byModel: ModelSpendLine[];
  byKey: KeySpendLine[];
}

/** From the monthly rollup (a handful of rows per user and month), never from the usage history. */
export async function spendThisMonth(db: DB, userId: number, nowMs: number): Promise<MonthSpend> {
  const month = utcMonth(nowMs);
  const rows = await db
    .selectFrom('monthly_spend')
    .leftJoin('api_keys', 'api_keys.id', 'monthly_spend.api_key_id')
    .select(['monthly_spend.model', 'monthly_spend.api_key_id', 'monthly_spend.charged_mc', 'monthly_spend.calls', 'api_keys.name as key_name', 'api_keys.prefix as key_prefix'])
    .where('monthly_spend.user_id', '=', userId)
    .where('monthly_spend.month', '=', month)
    .execute();
  type Row = (typeof rows)[number];
  const group = <L extends object>(idOf: (r: Row) => string | number, lineOf: (r: Row) => L): (L & SpendLine)[] => {
    const lines = new Map<string | number, L & SpendLine>();
    for (const r of rows) {
      const id = idOf(r);
      const line = lines.get(id) ?? { ...lineOf(r), chargedMc: 0, calls: 0 };
      line.chargedMc += Number(r.charged_mc);
      line.calls += Number(r.calls);
      lines.set(id, line);
    }
    return [...lines.values()];
  };
  return {
    month,
    totalMc: rows.reduce((sum, r) => sum + Number(r.charged_mc), 0),
    calls: rows.reduce((sum, r) => sum + Number(r.calls), 0),
    byModel: group((r) => r.model, (r) => ({ model: r.model })).sort((a, b) => b.chargedMc - a.chargedMc || a.model.localeCompare(b.model)),
    // The rollup stores the playground's calls under api_key_id 0.
    byKey: group((r) => r.api_key_id, (r) => ({ apiKeyId: r.api_key_id === 0 ? null : r.api_key_id, keyName: r.key_name, keyPrefix: r.key_prefix })).sort(
      (a, b) => b.chargedMc - a.chargedMc || (a.apiKeyId ?? 0) - (b.apiKeyId ?? 0),
    ),
  };
}
