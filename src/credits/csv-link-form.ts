// The "Copy link" form of a CSV export: which export, its filters (checked as the export checks them,
// and written back canonical, without the page's cursor) and for how many days. Each bad field is
// named; nothing is stored until all are good.
import type { DB } from '../db/connect.ts';
import { cursorSecret } from '../db/cursor.ts';
import { parseLedgerFilters, queryString, readUsageFilters, withoutCursor } from '../filters.ts';
import { CSV_EXPORT_KINDS, CSV_LINK_DAYS, MAX_CSV_LINK_QUERY_CHARS, type CsvExportKind } from '../exports/csv-links.ts';

export type CsvLinkForm = { ok: true; kind: CsvExportKind; query: string; days: number } | { ok: false; field: string; message: string };

export async function parseCsvLinkForm(db: DB, userId: number, fields: { export: string; query: string; days: string }): Promise<CsvLinkForm> {
  const kind = fields.export as CsvExportKind;
  if (!CSV_EXPORT_KINDS.includes(kind)) return { ok: false, field: 'export', message: `export must be ${CSV_EXPORT_KINDS.join(' or ')}, got "${fields.export.slice(0, 40)}"` };
  const days = /^\d{1,3}$/.test(fields.days) ? Number(fields.days) : NaN;
  if (!(CSV_LINK_DAYS as readonly number[]).includes(days)) return { ok: false, field: 'days', message: `days must be one of ${CSV_LINK_DAYS.join(', ')}, got "${fields.days.slice(0, 40)}"` };
  if (fields.query.length > MAX_CSV_LINK_QUERY_CHARS) return { ok: false, field: 'query', message: `query must be at most ${MAX_CSV_LINK_QUERY_CHARS} characters` };
  const query = Object.fromEntries(new URLSearchParams(fields.query.replace(/^\?/, '')));
  const parsed = kind === 'usage' ? (await readUsageFilters(db, userId, query)).parsed : parseLedgerFilters(query, await cursorSecret(db));
  if (!parsed.ok) {
    const [field, message] = Object.entries(parsed.errors)[0]!;
    return { ok: false, field, message };
  }
  return { ok: true, kind, query: queryString(withoutCursor(parsed.filters.raw)).replace(/^\?/, ''), days };
}
