// Column helpers that keep the migrations portable: SQLite today, PostgreSQL in a later issue.
import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/** A 64-bit auto-assigned primary key: SQLite's rowid alias, PostgreSQL's identity column. */
export function idColumn(db: Kysely<any>): [string, (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    return ['bigint', (col) => col.primaryKey().generatedByDefaultAsIdentity()];
  }
  // INTEGER PRIMARY KEY is the rowid: ids are assigned max + 1 without AUTOINCREMENT's extra write
  // to sqlite_sequence on every insert (the ledger, holds and usage never delete rows, so no id is reused).
  return ['integer', (col) => col.primaryKey()];
}
