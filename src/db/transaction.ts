// Write transactions: on SQLite one BEGIN IMMEDIATE each, on PostgreSQL a plain (READ COMMITTED)
// one; optionally committed without waiting for the disk when losing it on power failure is harmless
// (a hold dies with its call), durable otherwise (settles, credits).
// A hold's transaction may also start an auto-recharge (a pending auto_recharges row). That row is
// durable before the card is charged only because the recharge worker's first write (the claim,
// claimRecharges in src/billing/auto-recharge.ts) is a durable commit, whose flush of the write-ahead log takes
// every earlier commit with it (SQLite's WAL and PostgreSQL's alike): that write must stay durable and
// stay before the call to the payment provider.
import type { Transaction } from 'kysely';
import { rawRun, withDirectStatements } from './raw.ts';
import { dbInfo, type DB } from './connect.ts';
import { walletLockText, type WalletLock } from './locks.ts';
import type { Database } from './schema.ts';

export type Trx = Transaction<Database>;

export interface WriteOptions {
  /**
   * false: commit without waiting for the disk (SQLite: synchronous=NORMAL even when the database is
   * FULL; PostgreSQL: synchronous_commit off for this transaction). Default true.
   */
  durable?: boolean;
  /**
   * The wallets to lock before `work` runs (src/db/locks.ts): on PostgreSQL locked in the round trip
   * that begins the transaction; nothing on SQLite, whose BEGIN IMMEDIATE already serialises writers.
   */
  lockFirst?: WalletLock;
}

export async function writeTransaction<T>(db: DB, work: (trx: Trx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
  const info = dbInfo(db);
  if (info.backend === 'postgres') return postgresTransaction(db, work, options);
  const run = (trx: Trx) => withDirectStatements(trx, info.statements, () => work(trx));
  const relaxed = options.durable === false && info.synchronous === 'full';
  if (!relaxed) return db.transaction().execute(run);
  // Hold the one connection across the pragma, the transaction and the reset, so no other
  // transaction of this process commits at the relaxed level in between.
  return db.connection().execute((connection) =>
    withDirectStatements(connection, info.statements, async () => {
      await rawRun(connection, 'pragma synchronous = NORMAL', []);
      try {
        return await connection.transaction().execute(run);
      } finally {
        await rawRun(connection, 'pragma synchronous = FULL', []);
      }
    }),
  );
}

/**
 * A PostgreSQL transaction (READ COMMITTED) whose first round trip carries BEGIN, the relaxed commit
 * when asked for and the wallet lock together: statements without parameters, sent as one simple
 * query. kysely's own transaction would send each on its own, and a metered call's hold and settle
 * each pay that (docs/architecture.md, Round trips).
 */
function postgresTransaction<T>(db: DB, work: (trx: Trx) => Promise<T>, options: WriteOptions): Promise<T> {
  const opening = ['begin'];
  if (options.durable === false) opening.push('set local synchronous_commit = off');
  const lock = options.lockFirst ? walletLockText(options.lockFirst) : null;
  if (lock !== null) opening.push(lock);
  return db.connection().execute(async (connection) => {
    let result: T;
    try {
      // Inside the try: should the lock fail, the transaction BEGIN opened is rolled back.
      await rawRun(connection, opening.join('; '), []);
      // The connection is this transaction's alone until it ends, as kysely's Transaction is.
      result = await work(connection as Trx);
    } catch (error) {
      await rawRun(connection, 'rollback', []).catch(() => undefined);
      throw error;
    }
    await rawRun(connection, 'commit', []);
    return result;
  });
}
