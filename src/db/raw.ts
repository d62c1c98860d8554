// The hot path's statements as fixed SQL text, run without building or compiling a query per call:
// kysely's builders cost ≈ 10–30 µs a statement here, the statement itself ≈ 5 µs, and a metered call
// runs about fifteen. The text is portable SQL written once with ? placeholders; on PostgreSQL it is
// numbered ($1, $2…) once per text and kept (postgresText), so a call costs a map lookup more.
// The hot writes avoid RETURNING: in SQLite it more than doubles a small insert's or update's cost
// (≈ 12 vs 5 µs measured here), and the row written is known anyway.
import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { StatementCache } from './connect.ts';
import { prepareOnPostgres } from './postgres.ts';

/**
 * Transactions opened by writeTransaction, with the statements of their connection. Inside its own
 * transaction the code holds the one connection (kysely's mutex), so running a prepared statement
 * there directly is what kysely would do, minus its per-statement layers (≈ 2–3 µs each, fifteen
 * statements a call). Anything else (the database outside a transaction) goes through kysely.
 */
const directStatements = new WeakMap<Kysely<any>, StatementCache>();

/** Runs `work` with `trx`'s statements run directly; `trx` must hold the connection throughout. */
export async function withDirectStatements<T>(trx: Kysely<any>, statements: StatementCache, work: () => Promise<T>): Promise<T> {
  directStatements.set(trx, statements);
  try {
    return await work();
  } finally {
    directStatements.delete(trx);
  }
}

/**
 * The numbered texts, by the text as written: fixed texts of the code, so a few dozen in practice;
 * bounded anyway at 1,000 and 1 MiB each (strings counted at 2 bytes a character; docs/architecture.md, Caches).
 */
const numberedTexts = () => new LRUCache<string, string>({ max: 1_000, maxSize: 1024 * 1024, sizeCalculation: (numbered, text) => 2 * (text.length + numbered.length) + 64 });
const postgresTexts = numberedTexts();
const postgresInserts = numberedTexts();

/** `text` with its ? placeholders numbered $1, $2… (none inside quotes), as PostgreSQL wants them. */
export function numberPlaceholders(text: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const char of text) {
    if (quote !== null) {
      if (char === quote) quote = null;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else out += char === '?' ? `$${++n}` : char;
  }
  return out;
}

/** True when `executor` (a database or a transaction of it) is PostgreSQL's. */
export function onPostgres(executor: Kysely<any>): boolean {
  return executor.getExecutor().adapter instanceof PostgresAdapter;
}

/** The statement as this executor's database runs it: unchanged on SQLite, numbered (and kept) on PostgreSQL. */
function textFor(executor: Kysely<any>, text: string, insert: boolean): string {
  if (!onPostgres(executor)) return text;
  const kept = insert ? postgresInserts : postgresTexts;
  let numbered = kept.get(text);
  if (numbered === undefined) {
    // An insert's new id comes back with the row on PostgreSQL, whose driver reports no insert id.
    numbered = numberPlaceholders(insert ? `${text} returning id` : text);
    kept.set(text, numbered);
    // Fixed texts of the code, run again and again: planned once per connection.
    prepareOnPostgres(numbered);
  }
  return numbered;
}

export async function rawRows<R>(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<R[]> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) return direct.reader ? (direct.all(params) as R[]) : (direct.run(params), []);
  const result = await executor.executeQuery<R>(CompiledQuery.raw(textFor(executor, text, false), [...params]));
  return result.rows;
}

export async function rawFirst<R>(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<R | undefined> {
  return (await rawRows<R>(executor, text, params))[0];
}

/**
 * An INSERT written without RETURNING: the new row's id. SQLite reports its last insert rowid; on
 * PostgreSQL, whose driver reports no insert id, `returning id` is appended to the text.
 */
export async function rawInsert(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<number> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) return Number(direct.run(params).lastInsertRowid);
  const result = await executor.executeQuery<{ id: number }>(CompiledQuery.raw(textFor(executor, text, true), [...params]));
  const id = result.insertId ?? result.rows[0]?.id;
  if (id === undefined) throw new Error('the database reported no id for the new row');
  return Number(id);
}

/**
 * An INSERT … ON CONFLICT (…) DO NOTHING, written without RETURNING: the new row's id, or null when
 * the row's key was taken (by a committed row, or by a concurrent transaction that then committed:
 * PostgreSQL waits for it) and nothing was written.
 */
export async function rawInsertOrNothing(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<number | null> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) {
    const result = direct.run(params);
    return result.changes === 0 ? null : Number(result.lastInsertRowid);
  }
  const result = await executor.executeQuery<{ id: number }>(CompiledQuery.raw(textFor(executor, text, true), [...params]));
  if (result.numAffectedRows === 0n) return null;
  const id = result.insertId ?? result.rows[0]?.id;
  return id === undefined ? null : Number(id);
}

/** For statements without RETURNING: how many rows changed. */
export async function rawRun(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<number> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) return direct.run(params).changes;
  const result = await executor.executeQuery(CompiledQuery.raw(textFor(executor, text, false), [...params]));
  return Number(result.numAffectedRows ?? 0n);
}
