// Copies a SQLite install's rows into an empty, migrated PostgreSQL database (`db:copy`, README, Moving
// from SQLite to PostgreSQL): every table in foreign-key order, ids kept, identity sequences advanced
// past them, in one transaction on the target, so it ends either complete or as empty as it began.
import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { rawSqlite, type DB } from './connect.ts';
import { writeTransaction, type Trx } from './transaction.ts';

/** Rows per INSERT and per read of the source, so memory stays flat whatever the install's size. */
const BATCH_ROWS = 1_000;
/** PostgreSQL takes at most 65,535 parameters a statement; a batch of a wide table stays well under. */
const BATCH_PARAMETERS = 30_000;

/** Why the copy did not start: the target is not what it must be (not empty, another schema). Nothing was written. */
export class CopyRefusedError extends Error {
  override name = 'CopyRefusedError';
}

export interface CopiedTable {
  table: string;
  /** Rows read from the source (in one snapshot) and inserted into the target. */
  rows: number;
}

export interface CopyResult {
  tables: CopiedTable[];
  /** Identity columns whose sequence was moved past the largest id copied. */
  sequences: number;
}

export interface CopyOptions {
  /** Told after each table is copied (the operator's progress lines). */
  onTable?: (copied: CopiedTable) => void;
}

/** The tables the migrations make (the migrator's own bookkeeping is not copied: the target has its own). */
const isAppTable = (name: string) => !name.startsWith('kysely_') && !name.startsWith('sqlite_');

const quoteSqlite = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function targetTables(target: DB): Promise<Map<string, string[]>> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
    order by c.table_name, c.ordinal_position`.execute(target);
  const tables = new Map<string, string[]>();
  for (const row of rows) {
    if (!isAppTable(row.table_name)) continue;
    tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
  }
  return tables;
}

/** Parents before children: a row's foreign keys always find their row already copied. */
async function foreignKeyOrder(target: DB, tables: string[]): Promise<string[]> {
  const { rows } = await sql<{ child: string; parent: string }>`
    select ch.relname as child, pa.relname as parent from pg_constraint c
    join pg_class ch on ch.oid = c.conrelid join pg_class pa on pa.oid = c.confrelid
    join pg_namespace n on n.oid = ch.relnamespace
    where c.contype = 'f' and n.nspname = current_schema()`.execute(target);
  const parents = new Map(tables.map((table) => [table, new Set<string>()]));
  for (const { child, parent } of rows) if (child !== parent) parents.get(child)?.add(parent);
  const ordered: string[] = [];
  const remaining = new Set([...tables].sort());
  while (remaining.size > 0) {
    const ready = [...remaining].filter((table) => [...parents.get(table)!].every((parent) => !remaining.has(parent)));
    if (ready.length === 0) throw new CopyRefusedError(`the target's foreign keys form a cycle among ${[...remaining].join(', ')}`);
    for (const table of ready) {
      ordered.push(table);
      remaining.delete(table);
    }
  }
  return ordered;
}

async function migrationNames(db: DB): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((row) => row.name);
}

/** The same migrations applied, the same tables with the same columns: otherwise rows cannot be copied as they are. */
function checkSameSchema(sqlite: BetterSqlite3.Database, tables: Map<string, string[]>): void {
  const sourceTables = (sqlite.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[]).map((row) => row.name).filter(isAppTable);
  const missing = sourceTables.filter((table) => !tables.has(table));
  const extra = [...tables.keys()].filter((table) => !sourceTables.includes(table));
  if (missing.length > 0 || extra.length > 0) {
    throw new CopyRefusedError(`the two databases have different tables (only in SQLite: ${missing.join(', ') || 'none'}; only in PostgreSQL: ${extra.join(', ') || 'none'})`);
  }
  for (const [table, columns] of tables) {
    const sourceColumns = (sqlite.prepare(`pragma table_info(${quoteSqlite(table)})`).all() as { name: string }[]).map((row) => row.name);
    if (sourceColumns.length !== columns.length || columns.some((column) => !sourceColumns.includes(column))) {
      throw new CopyRefusedError(`table ${table} has columns (${sourceColumns.join(', ')}) in SQLite but (${columns.join(', ')}) in PostgreSQL`);
    }
  }
}

/**
 * A SQLite value as the target's parameter. Integers are read as BigInt (exact past 2^53, where a
 * number would round) and sent as their decimal text, which PostgreSQL casts to the column's integer
 * type; flags stay the 0/1 integers the schema declares; texts and nulls go as they are.
 */
function parameter(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

async function copyTable(trx: Trx, sqlite: BetterSqlite3.Database, table: string, columns: string[]): Promise<number> {
  const batch = Math.max(1, Math.min(BATCH_ROWS, Math.floor(BATCH_PARAMETERS / columns.length)));
  // Keyset by rowid (every table here has one): each read is one short statement of the snapshot.
  const read = sqlite
    .prepare(`select rowid as "rowid:copy", ${columns.map(quoteSqlite).join(', ')} from ${quoteSqlite(table)} where rowid > ? order by rowid limit ?`)
    .safeIntegers(true);
  const into = sql`insert into ${sql.table(table)} (${sql.join(columns.map((column) => sql.ref(column)))}) values `;
  let after = -(2n ** 63n);
  let copied = 0;
  for (;;) {
    const rows = read.all(after, batch) as Record<string, unknown>[];
    if (rows.length === 0) return copied;
    after = rows.at(-1)!['rowid:copy'] as bigint;
    const values = rows.map((row) => sql`(${sql.join(columns.map((column) => parameter(row[column])))})`);
    await sql`${into}${sql.join(values)}`.execute(trx);
    copied += rows.length;
  }
}

/** Every identity (or serial) column's sequence set to hand out max(id) + 1 next: new rows never collide with copied ids. */
async function advanceSequences(trx: Trx): Promise<number> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and (is_identity = 'YES' or column_default like 'nextval(%')`.execute(trx);
  let advanced = 0;
  for (const { table_name: table, column_name: column } of rows) {
    if (!isAppTable(table)) continue;
    await sql`select setval(pg_get_serial_sequence(${`"${table}"`}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0) + 1, false)`.execute(trx);
    advanced++;
  }
  return advanced;
}

/**
 * Copies `source` (SQLite) into `target` (PostgreSQL), both migrated by the caller. Refused with
 * CopyRefusedError, writing nothing, when the migrations or tables differ or any table of the target
 * holds a row. The source is read in one snapshot (a read transaction), so a copy taken while the app
 * still runs is a consistent one; the target is written in one transaction that first locks every
 * table against writers, so nobody sees, or writes into, a half-copied database, and any failure
 * leaves it empty.
 */
export async function copySqliteToPostgres(source: DB, target: DB, options: CopyOptions = {}): Promise<CopyResult> {
  const sqlite = rawSqlite(source);
  const [sourceMigrations, targetMigrations] = [await migrationNames(source), await migrationNames(target)];
  if (sourceMigrations.join() !== targetMigrations.join()) {
    throw new CopyRefusedError(`the databases are at different migrations (SQLite ${sourceMigrations.at(-1) ?? 'none'}, PostgreSQL ${targetMigrations.at(-1) ?? 'none'})`);
  }
  const tables = await targetTables(target);
  checkSameSchema(sqlite, tables);
  const order = await foreignKeyOrder(target, [...tables.keys()]);
  sqlite.exec('begin');
  try {
    return await writeTransaction(target, async (trx) => {
      // EXCLUSIVE lets others read but not write until the commit: the emptiness seen below holds.
      await sql`lock table ${sql.join(order.map((table) => sql.table(table)))} in exclusive mode`.execute(trx);
      const filled: string[] = [];
      for (const table of order) {
        const { rows } = await sql<{ present: boolean }>`select exists (select 1 from ${sql.table(table)}) as present`.execute(trx);
        if (rows[0]?.present) filled.push(table);
      }
      if (filled.length > 0) {
        throw new CopyRefusedError(`the target database is not empty (rows in ${filled.join(', ')}); db:copy fills only a new, empty database: create one (createdb) and give its URL, without starting the app on it first`);
      }
      const copied: CopiedTable[] = [];
      for (const table of order) {
        let rows: number;
        try {
          rows = await copyTable(trx, sqlite, table, tables.get(table)!);
        } catch (error) {
          throw new Error(`copying table ${table}: ${(error as Error).message}`, { cause: error });
        }
        copied.push({ table, rows });
        options.onTable?.({ table, rows });
      }
      return { tables: copied, sequences: await advanceSequences(trx) };
    });
  } finally {
    sqlite.exec('commit');
  }
}

/** Rows in each table of `db` now (the check after the copy). */
export async function countRows(db: DB, tables: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of tables) {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    counts.set(table, Number(rows[0]!.n));
  }
  return counts;
}
