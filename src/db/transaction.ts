// Write transactions: one BEGIN IMMEDIATE each; optionally committed without fsync when losing it
// on power failure is harmless (a hold dies with its call), durable otherwise (settles, credits).
// A hold's transaction may also start an auto-recharge (a pending auto_recharges row). That row is
// durable before the card is charged only because the recharge worker's first write (the attempts + 1
// update in src/billing/auto-recharge.ts) is a FULL commit, whose fsync of the WAL takes every earlier
// commit with it: that write must stay FULL and stay before the call to the payment provider.
import type { Transaction } from 'kysely';
import { rawRun, withDirectStatements } from './raw.ts';
import { dbInfo, type DB } from './connect.ts';
import type { Database } from './schema.ts';

export type Trx = Transaction<Database>;

export interface WriteOptions {
  /** false: commit with synchronous=NORMAL even when the database is FULL. Default true. */
  durable?: boolean;
}

export async function writeTransaction<T>(db: DB, work: (trx: Trx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
  const info = dbInfo(db);
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
