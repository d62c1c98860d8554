// Named locks held to the end of a write transaction, for a check-then-write on rows that may not
// exist yet (a rate window's count, then its new event). On SQLite the transaction already holds the
// database's one write lock from BEGIN IMMEDIATE, so there is nothing to take; on PostgreSQL
// (READ COMMITTED) each name is a transaction-scoped advisory lock (docs/architecture.md, Two backends).
import { onPostgres, rawRun } from './raw.ts';
import type { Trx } from './transaction.ts';

/** Takes a lock on each name, in sorted order so two transactions never wait on each other in a circle. */
export async function lockNames(trx: Trx, names: readonly string[]): Promise<void> {
  if (!onPostgres(trx)) return;
  for (const name of [...new Set(names)].sort()) {
    await rawRun(trx, 'select pg_advisory_xact_lock(hashtextextended(?, 0))', [name]);
  }
}
