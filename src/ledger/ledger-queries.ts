// Reading the ledger: a filtered page for the ledger table, and the same rows for the CSV export.
import type { DB } from '../db/connect.ts';
import type { LedgerEntry } from '../db/schema.ts';
import { keysetQuery, toPage, type Page } from '../credits/keyset.ts';
import type { LedgerFilters } from '../credits/filters.ts';

const LEDGER_PAGE_SIZE = 25;

export function ledgerQuery(db: DB, userId: number, filters: Omit<LedgerFilters, 'cursor' | 'raw'>) {
  let query = db.selectFrom('ledger_entries').selectAll().where('user_id', '=', userId);
  if (filters.type) query = query.where('type', '=', filters.type);
  if (filters.fromMs !== null) query = query.where('created_at_ms', '>=', filters.fromMs);
  if (filters.untilMs !== null) query = query.where('created_at_ms', '<', filters.untilMs);
  return query;
}

export async function ledgerPage(db: DB, userId: number, filters: LedgerFilters, pageSize = LEDGER_PAGE_SIZE): Promise<Page<LedgerEntry>> {
  const fetched = await keysetQuery(ledgerQuery(db, userId, filters), filters.cursor, pageSize).execute();
  return toPage(fetched, filters.cursor, pageSize);
}
