// Keyset pagination over (created_at_ms, id), newest first — or over (another whole-number column, id),
// highest first: no OFFSET, so page 1,000 costs what page 1 does.
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Cursor } from './cursor.ts';

export interface Page<T> {
  rows: T[];
  /** Where "Newer" and "Older" lead, or null when there is nothing that way. */
  newer: Cursor | null;
  older: Cursor | null;
}

/**
 * Adds the position, the order and a limit of one more row than shown (to know if there is more).
 * `column` is the first key (a non-negative whole number, as a cursor holds it: the admin's list of
 * users sorts by balance); "older" means lower in it.
 */
export function keysetQuery<QB extends SelectQueryBuilder<any, any, any>>(query: QB, cursor: Cursor | null, pageSize: number, column = 'created_at_ms'): QB {
  const towardsNewer = cursor?.direction === 'newer';
  let q = query;
  if (cursor) q = q.where(sql`(${sql.ref(column)}, id)`, towardsNewer ? '>' : '<', sql`(${cursor.createdAtMs}, ${cursor.id})`) as QB;
  const direction = towardsNewer ? 'asc' : 'desc';
  return q.orderBy(column, direction).orderBy('id', direction).limit(pageSize + 1) as QB;
}

/** `keyOf` reads the row's first key (keysetQuery's `column`). */
export function toPage<T extends { id: number }>(fetched: T[], cursor: Cursor | null, pageSize: number, keyOf: (row: T) => number = (row) => (row as unknown as { created_at_ms: number }).created_at_ms): Page<T> {
  const towardsNewer = cursor?.direction === 'newer';
  const more = fetched.length > pageSize;
  const rows = fetched.slice(0, pageSize);
  if (towardsNewer) rows.reverse();
  const first = rows[0];
  const last = rows.at(-1);
  const hasNewer = towardsNewer ? more : cursor !== null;
  const hasOlder = towardsNewer ? true : more;
  return {
    rows,
    newer: hasNewer && first ? { direction: 'newer', createdAtMs: keyOf(first), id: first.id } : null,
    older: hasOlder && last ? { direction: 'older', createdAtMs: keyOf(last), id: last.id } : null,
  };
}
