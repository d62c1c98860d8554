// Refunds and disputes take credits back by target: credits × (refunded + disputed) ÷ paid, applying
// only the difference from what was already taken, never below balance − held (the rest is the
// purchase's shortfall); a won dispute gives back what its withdrawal took.
import type { Purchase } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { debitAtMostIn, recordCreditIn } from '../ledger/credits.ts';
import { disputeReinstatedEntryKey, disputeWithdrawnEntryKey, refundEntryKey } from '../ledger/idempotency-keys.ts';

/** Stripe withdraws the disputed funds for these (inquiries, `warning_*`, withdraw nothing). */
export function disputeWithdrawsFunds(status: string): boolean {
  return status === 'needs_response' || status === 'under_review' || status === 'lost';
}

const FINAL_DISPUTE_STATUSES = new Set(['won', 'lost', 'warning_closed', 'prevented']);

/** What the purchase's ledger entries carry as reference: its Checkout Session, or an auto-recharge's PaymentIntent. */
export function creditReference(purchase: Pick<Purchase, 'checkout_session_id' | 'payment_intent_id' | 'kind'>): string | null {
  return purchase.kind === 'auto_recharge' ? purchase.payment_intent_id : purchase.checkout_session_id;
}

/** Only a credited purchase has anything to claw back; before that, refunds and disputes are kept on it. */
export function isCredited(purchase: Purchase): boolean {
  return purchase.status === 'paid';
}

/** What the refunds and a withdrawing dispute say should have been taken back, in mc (rounded down: never more than proportional). */
export function clawbackTargetMc(purchase: Purchase): number {
  const disputedCents = purchase.dispute_status && disputeWithdrawsFunds(purchase.dispute_status) ? purchase.dispute_amount_cents : 0;
  const reversedCents = Math.min(purchase.price_cents, purchase.amount_refunded_cents + disputedCents);
  return Number((BigInt(purchase.credits_mc) * BigInt(reversedCents)) / BigInt(purchase.price_cents));
}

/**
 * Moves what was clawed back (taken + shortfall) to the target inside the caller's transaction.
 * The purchase row and the ledger move together, so a repeated event finds nothing left to do; the
 * key is a second line of defence, and a key already used means the state went wrong: refuse loudly.
 */
export async function reclaimToTargetIn(trx: Trx, nowMs: number, purchase: Purchase, idempotencyKey: string): Promise<Purchase> {
  const reference = creditReference(purchase);
  if (!isCredited(purchase) || !reference) return purchase;
  const targetMc = clawbackTargetMc(purchase);
  const appliedMc = purchase.clawed_back_mc + purchase.shortfall_mc;
  if (targetMc === appliedMc) return purchase;
  let clawedBackMc = purchase.clawed_back_mc;
  let shortfallMc = purchase.shortfall_mc;
  const common = { userId: purchase.user_id, reference, idempotencyKey };
  if (targetMc > appliedMc) {
    const wantedMc = targetMc - appliedMc;
    // Paid credit only: promo credit is never clawed back (its grant is not what was refunded).
    const debit = await debitAtMostIn(trx, nowMs, { ...common, type: 'refund', amountMc: wantedMc, sparePromo: true });
    if (debit.duplicate) throw new Error(`clawback key ${idempotencyKey} was already used`);
    const takenMc = -debit.entry.amount_mc;
    clawedBackMc += takenMc;
    shortfallMc += wantedMc - takenMc;
  } else {
    // Lower target (a won dispute): first cancel what was never taken, then give back what was.
    const lowerMc = appliedMc - targetMc;
    const forgivenMc = Math.min(lowerMc, shortfallMc);
    const giveBackMc = lowerMc - forgivenMc;
    shortfallMc -= forgivenMc;
    if (giveBackMc > 0) {
      const credit = await recordCreditIn(trx, nowMs, { ...common, type: 'adjustment', amountMc: giveBackMc });
      if (credit.duplicate) throw new Error(`give-back key ${idempotencyKey} was already used`);
      clawedBackMc -= giveBackMc;
    }
  }
  return trx
    .updateTable('purchases')
    .set({ clawed_back_mc: clawedBackMc, shortfall_mc: shortfallMc, updated_at_ms: nowMs })
    .where('id', '=', purchase.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The key for applying whatever refunds and disputes were kept on a purchase when it is credited. */
export function keptClawbackKey(purchase: Purchase): string {
  if (purchase.amount_refunded_cents > 0) return refundEntryKey(purchase.charge_id ?? purchase.public_id, purchase.amount_refunded_cents);
  return disputeWithdrawnEntryKey(purchase.dispute_id ?? purchase.public_id, purchase.dispute_amount_cents);
}

export type ClawbackOutcome = 'applied' | 'kept' | 'stale';

export interface RefundFacts {
  chargeId: string;
  /** Cumulative, as charge.refunded reports it. */
  amountRefundedCents: number;
}

/**
 * charge.refunded: the cumulative amount only ever grows, so an older or repeated event changes nothing.
 * `purchase` was read locked in this transaction (webhook.ts), so the comparison still holds when the row is written.
 */
export async function applyRefundIn(trx: Trx, nowMs: number, purchase: Purchase, refund: RefundFacts): Promise<ClawbackOutcome> {
  if (refund.amountRefundedCents <= purchase.amount_refunded_cents) return 'stale';
  const updated = await trx
    .updateTable('purchases')
    .set({ amount_refunded_cents: refund.amountRefundedCents, charge_id: purchase.charge_id ?? refund.chargeId, updated_at_ms: nowMs })
    .where('id', '=', purchase.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (!isCredited(updated)) return 'kept';
  await reclaimToTargetIn(trx, nowMs, updated, refundEntryKey(refund.chargeId, refund.amountRefundedCents));
  return 'applied';
}

export interface DisputeFacts {
  id: string;
  chargeId: string;
  status: string;
  amountCents: number;
}

/**
 * charge.dispute.*: a final status is not undone by a late event about an earlier one; a won dispute
 * stays won (and one lost and later won gives the credits back). `purchase`: read locked, as for a refund.
 */
export async function applyDisputeIn(trx: Trx, nowMs: number, purchase: Purchase, dispute: DisputeFacts): Promise<ClawbackOutcome> {
  const current = purchase.dispute_id === dispute.id ? purchase.dispute_status : null;
  if (current && FINAL_DISPUTE_STATUSES.has(current) && (!FINAL_DISPUTE_STATUSES.has(dispute.status) || current === 'won')) return 'stale';
  if (current === dispute.status && purchase.dispute_amount_cents === dispute.amountCents) return 'stale';
  const updated = await trx
    .updateTable('purchases')
    .set({
      dispute_id: dispute.id,
      dispute_status: dispute.status,
      dispute_amount_cents: dispute.amountCents,
      charge_id: purchase.charge_id ?? dispute.chargeId,
      updated_at_ms: nowMs,
    })
    .where('id', '=', purchase.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (!isCredited(updated)) return 'kept';
  const key = disputeWithdrawsFunds(dispute.status) ? disputeWithdrawnEntryKey(dispute.id, dispute.amountCents) : disputeReinstatedEntryKey(dispute.id);
  await reclaimToTargetIn(trx, nowMs, updated, key);
  return 'applied';
}
