// The packages of credits on sale: every read of the packages table (the seed writes it). Here, below
// billing, limits and the Credits tab, so each of them reads packages without importing another.
import type { DB } from '../db/connect.ts';
import type { Package } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';

/** The packages on sale, in display order. */
export async function activePackages(db: DB): Promise<Package[]> {
  return db.selectFrom('packages').selectAll().where('active', '=', 1).orderBy('sort_order').execute();
}

/** A package that is on sale now; undefined when unknown or withdrawn. Inside a transaction, pass it. */
export async function packageOnSale(executor: DB | Trx, packageId: string): Promise<Package | undefined> {
  return executor.selectFrom('packages').selectAll().where('id', '=', packageId).where('active', '=', 1).executeTakeFirst();
}

/** A package's name, on sale or not (a setting can name one since withdrawn); null when unknown. */
export async function packageName(db: DB, packageId: string): Promise<string | null> {
  return (await db.selectFrom('packages').select('name').where('id', '=', packageId).executeTakeFirst())?.name ?? null;
}
