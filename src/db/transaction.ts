// Write transactions: one BEGIN IMMEDIATE each; optionally committed without fsync when losing it
// on power failure is harmless (a hold dies with its call), durable otherwise (settles, credits).
import type { Transaction } from 'kysely';
import { rawRun } from './raw.ts';
import { dbInfo, type DB } from './connect.ts';
import type { Database } from './schema.ts';

export type Trx = Transaction<Database>;

export interface WriteOptions {
  /** false: commit with synchronous=NORMAL even when the database is FULL. Default true. */
  durable?: boolean;
}

export async function writeTransaction<T>(db: DB, work: (trx: Trx) => Promise<T>, options: WriteOptions = {}): Promise<T> {
  const relaxed = options.durable === false && dbInfo(db).synchronous === 'full';
  if (!relaxed) return db.transaction().execute(work);
  // Hold the one connection across the pragma, the transaction and the reset, so no other
  // transaction of this process commits at the relaxed level in between.
  return db.connection().execute(async (connection) => {
    await rawRun(connection, 'pragma synchronous = NORMAL', []);
    try {
      return await connection.transaction().execute(work);
    } finally {
      await rawRun(connection, 'pragma synchronous = FULL', []);
    }
  });
}
