// The hot path's statements as fixed SQL text, run without building or compiling a query per call:
// kysely's builders cost ≈ 10–30 µs a statement here, the statement itself ≈ 5 µs, and a metered call
// runs about twenty. The text is portable SQL with ? placeholders (a PostgreSQL driver numbers them).
import { CompiledQuery, type Kysely } from 'kysely';

export async function rawRows<R>(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<R[]> {
  const result = await executor.executeQuery<R>(CompiledQuery.raw(text, [...params]));
  return result.rows;
}

export async function rawFirst<R>(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<R | undefined> {
  return (await rawRows<R>(executor, text, params))[0];
}

/** For statements without RETURNING: how many rows changed. */
export async function rawRun(executor: Kysely<any>, text: string, params: readonly unknown[]): Promise<number> {
  const result = await executor.executeQuery(CompiledQuery.raw(text, [...params]));
  return Number(result.numAffectedRows ?? 0n);
}
