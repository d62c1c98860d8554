// The card kept for auto-recharge: saved when a purchase made with "save the card" is paid.
import type { DB } from '../db/connect.ts';
import type { Trx } from '../db/transaction.ts';

export interface SavedCard {
  paymentMethodId: string;
  brand: string;
  last4: string;
}

export async function savedCard(db: DB | Trx, userId: number): Promise<SavedCard | null> {
  const row = await db.selectFrom('saved_cards').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row ? { paymentMethodId: row.payment_method_id, brand: row.brand, last4: row.last4 } : null;
}

/** The newest saved card replaces the previous one. */
export async function saveCard(trx: Trx, userId: number, card: SavedCard, nowMs: number): Promise<void> {
  const values = { payment_method_id: card.paymentMethodId, brand: card.brand, last4: card.last4, created_at_ms: nowMs };
  await trx
    .insertInto('saved_cards')
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .execute();
}
