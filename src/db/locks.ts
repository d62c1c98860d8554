// Locks held to the end of a write transaction, taken only on PostgreSQL: on SQLite the transaction
// already holds the database's one write lock from BEGIN IMMEDIATE, so each is nothing there (no
// statement added). On PostgreSQL (READ COMMITTED) a lock taken first makes every later statement of
// the transaction read what the last holder committed (docs/architecture.md, Two backends).
import type { SelectQueryBuilder } from 'kysely';
import { onPostgres, rawRun } from './raw.ts';
import type { Trx } from './transaction.ts';

/** The wallets a write transaction locks first: by their users, or by the users of these holds (a settle may know only its hold's id). */
export type WalletLock = { users: readonly number[] } | { holds: readonly number[] };

/**
 * The statement that locks `lock`'s wallets in user order, with its ids written into the text as
 * integer literals (each checked a safe integer, so nothing else can enter it): a statement without
 * parameters can share one round trip with the transaction's BEGIN (src/db/transaction.ts). Null when
 * there is nothing to lock.
 */
export function walletLockText(lock: WalletLock): string | null {
  const ids = 'users' in lock ? lock.users : lock.holds;
  if (ids.length === 0) return null;
  for (const id of ids) if (!Number.isSafeInteger(id)) throw new RangeError(`a wallet lock takes whole ids, got ${id}`);
  const list = `'{${[...new Set(ids)].join(',')}}'::bigint[]`;
  return 'users' in lock
    ? `select user_id from wallets where user_id = any(${list}) order by user_id for update`
    : `select user_id from wallets where user_id in (select user_id from holds where id = any(${list})) order by user_id for update`;
}

/**
 * Locks the wallets of `userIds` in one statement, in user order, before anything of them is read:
 * two transactions locking overlapping sets take them in the same order, so they queue instead of
 * deadlocking, and what either reads afterwards (the wallet, the pending holds counted beside it) is
 * what the other committed. Locking the wallet in the statement that reads it would not do: under
 * READ COMMITTED that statement's other parts (counts of pending holds) keep its starting snapshot.
 * A transaction that knows its wallets when it starts passes them to writeTransaction instead
 * (its lockFirst), which saves this round trip.
 */
export async function lockWallets(trx: Trx, userIds: readonly number[]): Promise<void> {
  if (!onPostgres(trx)) return;
  const text = walletLockText({ users: userIds });
  if (text !== null) await rawRun(trx, text, []);
}

/** lockWallets for one user. */
export function lockWallet(trx: Trx, userId: number): Promise<void> {
  return lockWallets(trx, [userId]);
}

/**
 * `query` locking the rows it reads to the end of the transaction (FOR UPDATE; with `skipLocked`, rows
 * another transaction holds are passed over instead of waited for), on PostgreSQL; unchanged on SQLite.
 */
export function lockingRead<Q extends SelectQueryBuilder<any, any, any>>(trx: Trx, query: Q, options: { skipLocked?: boolean } = {}): Q {
  if (!onPostgres(trx)) return query;
  const locked = query.forUpdate();
  return (options.skipLocked ? locked.skipLocked() : locked) as Q;
}

/**
 * Takes a lock on each name (a transaction-scoped advisory lock), in sorted order so two transactions
 * never wait on each other in a circle: for a check-then-write on rows that may not exist yet (a rate
 * window's count, then its new event).
 */
export async function lockNames(trx: Trx, names: readonly string[]): Promise<void> {
  if (!onPostgres(trx)) return;
  for (const name of [...new Set(names)].sort()) {
    await rawRun(trx, 'select pg_advisory_xact_lock(hashtextextended(?, 0))', [name]);
  }
}
