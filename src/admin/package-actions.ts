// What an admin does to the packages on sale: add one, or change its name, price, credits, order and
// whether it is on sale (a purchase copies what it bought, so past purchases never change). With its
// admin_actions row in the same transaction.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Package } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { creditsExactText, priceText } from '../money-text.ts';
import { recordAdminAction } from './actions.ts';

export interface PackageInput {
  id: string;
  name: string;
  priceCents: number;
  creditsMc: number;
  active: boolean;
  sortOrder: number;
}

/** Adding a package id that exists, or changing one that does not. */
export class PackageConflictError extends Error {
  override name = 'PackageConflictError';
}

export function allPackages(db: DB): Promise<Package[]> {
  return db.selectFrom('packages').selectAll().orderBy('sort_order').orderBy('id').execute();
}

export function savePackageByAdmin(db: DB, clock: Clock, adminUserId: number, input: PackageInput, reason: string, adding: boolean): Promise<void> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const existing = await trx.selectFrom('packages').select(['id', 'currency']).where('id', '=', input.id).executeTakeFirst();
    if (adding && existing) throw new PackageConflictError(`There is already a package "${input.id}".`);
    if (!adding && !existing) throw new PackageConflictError(`There is no package "${input.id}".`);
    const values = { name: input.name, price_cents: input.priceCents, credits_mc: input.creditsMc, active: input.active ? (1 as const) : (0 as const), sort_order: input.sortOrder };
    if (existing) await trx.updateTable('packages').set(values).where('id', '=', input.id).execute();
    else await trx.insertInto('packages').values({ ...values, id: input.id, currency: 'usd', best_value: 0, created_at_ms: nowMs }).execute();
    const currency = existing?.currency ?? 'usd';
    const detail = `${input.name}: ${priceText(input.priceCents, currency)} for ${creditsExactText(input.creditsMc)} credits; ${input.active ? 'on sale' : 'not on sale'}; order ${input.sortOrder}`;
    await recordAdminAction(trx, { adminUserId, action: 'package_save', targetUserId: null, target: `package ${input.id}`, reason, detail, nowMs });
  });
}
