// The hot path's statements as fixed SQL text, run without building or compiling a query per call:
// kysely's builders cost ≈ 10–30 µs a statement here, the statement itself ≈ 5 µs, and a metered call
// runs about fifteen. The text is portable SQL with ? placeholders (a PostgreSQL driver numbers them).
// The hot writes avoid RETURNING: in SQLite it more than doubles a small insert's or update's cost
// (≈ 12 vs 5 µs measured here), and the row written is known anyway.
import { CompiledQuery, type Kysely } from 'kysely';
import type { StatementCache } from './connect.ts';

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

export async function rawRows<R>(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<R[]> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) return direct.reader ? (direct.all(params) as R[]) : (direct.run(params), []);
  const result = await executor.executeQuery<R>(CompiledQuery.raw(text, [...params]));
  return result.rows;
}

export async function rawFirst<R>(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<R | undefined> {
  return (await rawRows<R>(executor, text, params))[0];
}

/**
 * An INSERT without RETURNING: the new row's id (SQLite's last insert rowid). On PostgreSQL, whose
 * driver reports no insert id, this is where `returning id` will be appended.
 */
export async function rawInsert(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<number> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) return Number(direct.run(params).lastInsertRowid);
  const result = await executor.executeQuery(CompiledQuery.raw(text, [...params]));
  if (result.insertId === undefined) throw new Error('the database reported no id for the new row');
  return Number(result.insertId);
}

/** For statements without RETURNING: how many rows changed. */
export async function rawRun(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<number> {
  const direct = directStatements.get(executor)?.prepare(text);
  if (direct) return direct.run(params).changes;
  const result = await executor.executeQuery(CompiledQuery.raw(text, [...params]));
  return Number(result.numAffectedRows ?? 0n);
}
