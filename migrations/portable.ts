// Column helpers that keep the migrations portable: SQLite today, PostgreSQL in a later issue.
import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/** A 64-bit auto-incrementing primary key: SQLite's rowid alias, PostgreSQL's identity column. */
export function idColumn(db: Kysely<any>): [string, (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    return ['bigint', (col) => col.primaryKey().generatedByDefaultAsIdentity()];
  }
  return ['integer', (col) => col.primaryKey().autoIncrement()];
}
