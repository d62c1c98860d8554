// Removing the saved card from the billing settings: detached at the provider first (so it can never
// be charged again), then forgotten here with auto-recharge turned off in the same transaction, since
// auto-recharge has nothing left to charge.
import { writeTransaction } from '../db/transaction.ts';
import { savedCard } from '../auto-recharge/saved-card.ts';
import type { BillingDeps } from './deps.ts';
import { CardNotRemovedError, errorText } from './errors.ts';

export interface CardRemoved {
  /** Whether auto-recharge was on and has been turned off. */
  autoRechargeTurnedOff: boolean;
}

/** null when there was no card to remove; a provider failure throws CardNotRemovedError and changes nothing here. */
export async function removeSavedCard(deps: BillingDeps, userId: number): Promise<CardRemoved | null> {
  const card = await savedCard(deps.db, userId);
  if (!card) return null;
  try {
    await deps.provider.detachCard(card.paymentMethodId);
  } catch (error) {
    deps.log(`billing: could not detach ${card.paymentMethodId}: ${errorText(error)}`);
    throw new CardNotRemovedError(error as Error);
  }
  return writeTransaction(deps.db, async (trx) => {
    const nowMs = deps.clock.now();
    // Only the card that was detached: a newer one saved meanwhile (a purchase paid just now) stays.
    const deleted = await trx.deleteFrom('saved_cards').where('user_id', '=', userId).where('payment_method_id', '=', card.paymentMethodId).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return { autoRechargeTurnedOff: false };
    const turnedOff = await trx
      .updateTable('billing_settings')
      .set({ auto_recharge_enabled: 0, updated_at_ms: nowMs })
      .where('user_id', '=', userId)
      .where('auto_recharge_enabled', '=', 1)
      .executeTakeFirst();
    return { autoRechargeTurnedOff: Number(turnedOff.numUpdatedRows) > 0 };
  });
}
