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
import type { Database } from './schema.ts';

export type Trx = Transaction<Database>;

export interface WriteOptions {
  /**
   * false: commit without waiting for the disk (SQLite: synchronous=NORMAL even when the database is
   * FULL; PostgreSQL: synchronous_commit off for this transaction). Default true.
   */
  durable?: boolean;
}

export async function writeTransaction<T>(db: DB, work: (trx: Trx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
  const info = dbInfo(db);
  if (info.backend === 'postgres') {
    if (options.durable !== false) return db.transaction().execute(work);
    return db.transaction().execute(async (trx) => {
      await rawRun(trx, 'set local synchronous_commit = off', []);
      return work(trx);
    });
  }
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
