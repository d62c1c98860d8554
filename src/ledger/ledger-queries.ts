// Reading the ledger: a filtered page for the ledger table, and the same rows for the CSV export.
import type { DB } from '../db/connect.ts';
import type { Cursor } from '../db/cursor.ts';
import type { LedgerEntry, LedgerEntryType } from '../db/schema.ts';
import { keysetQuery, toPage, type Page } from '../db/keyset.ts';

/** Which entries to read: the Credits tab's filters, as checked there, fit this shape. */
export interface LedgerSelection {
  type: LedgerEntryType | null;
  /** Inclusive, and exclusive: epoch ms. */
  fromMs: number | null;
  untilMs: number | null;
}

const LEDGER_PAGE_SIZE = 25;

export function ledgerQuery(db: DB, userId: number, filters: LedgerSelection) {
  let query = db.selectFrom('ledger_entries').selectAll().where('user_id', '=', userId);
  if (filters.type) query = query.where('type', '=', filters.type);
  if (filters.fromMs !== null) query = query.where('created_at_ms', '>=', filters.fromMs);
  if (filters.untilMs !== null) query = query.where('created_at_ms', '<', filters.untilMs);
  return query;
}

export async function ledgerPage(db: DB, userId: number, filters: LedgerSelection & { cursor: Cursor | null }, pageSize = LEDGER_PAGE_SIZE): Promise<Page<LedgerEntry>> {
  const fetched = await keysetQuery(ledgerQuery(db, userId, filters), filters.cursor, pageSize).execute();
  return toPage(fetched, filters.cursor, pageSize);
}
