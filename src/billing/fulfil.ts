// The one fulfil function, keyed by the Checkout Session: called by the webhook, the success return,
// the pending poll and reconcile, as often and as concurrently as they like; a paid session whose
// amount and currency match its purchase is credited exactly once.
import type { Purchase } from '../db/schema.ts';
import { lockingRead } from '../db/locks.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { recordCreditIn } from '../ledger/credits.ts';
import { findEntryByKey } from '../ledger/entries.ts';
import { checkoutEntryKey } from '../ledger/idempotency-keys.ts';
import { queueMail } from '../mail/outbox.ts';
import { creditsProseText, creditsRoundedDownText, priceText } from '../money-text.ts';
import { clawbackTargetMc, keptClawbackKey, reclaimToTargetIn } from './clawback.ts';
import type { BillingDeps } from './deps.ts';
import type { CheckoutSessionView } from './payment-provider.ts';
import { findPurchaseForSession, receiptHref } from './purchases.ts';
import { saveCard } from '../auto-recharge/saved-card.ts';

export type FulfilOutcome =
  | { kind: 'credited'; purchase: Purchase }
  | { kind: 'already_credited'; purchase: Purchase }
  | { kind: 'not_paid'; purchase: Purchase; session: CheckoutSessionView }
  | { kind: 'mismatch'; purchase: Purchase }
  | { kind: 'unknown'; sessionId: string };

/**
 * Retrieves the session first (the network is never awaited inside a transaction), then decides and
 * credits in one transaction: concurrent callers queue on the purchase's lock (SQLite's write lock),
 * and each one after the first finds the `checkout:{session}` entry and changes nothing.
 */
export async function fulfilCheckoutSession(deps: BillingDeps, sessionId: string): Promise<FulfilOutcome> {
  const session = await deps.provider.retrieveSession(sessionId);
  return writeTransaction(deps.db, (trx) => fulfilSessionIn(trx, deps, session));
}

/**
 * The session's purchase, locked to the end of the transaction and read as the last fulfil left it
 * (concurrent fulfils of one session queue here; docs/architecture.md, Two backends); one found by the
 * purchase id the session carries is bound to the session here.
 */
async function purchaseForSessionIn(trx: Trx, session: CheckoutSessionView): Promise<Purchase | undefined> {
  const found = await findPurchaseForSession(trx, session.id, session.purchasePublicId);
  if (!found) return undefined;
  const purchase = await lockingRead(trx, trx.selectFrom('purchases').selectAll().where('id', '=', found.id)).executeTakeFirstOrThrow();
  if (purchase.checkout_session_id !== null) return purchase;
  return trx.updateTable('purchases').set({ checkout_session_id: session.id }).where('id', '=', purchase.id).returningAll().executeTakeFirstOrThrow();
}

export async function fulfilSessionIn(trx: Trx, deps: BillingDeps, session: CheckoutSessionView): Promise<FulfilOutcome> {
  const nowMs = deps.clock.now();
  const purchase = await purchaseForSessionIn(trx, session);
  if (!purchase) return { kind: 'unknown', sessionId: session.id };

  if (session.paymentStatus !== 'paid') {
    const expired = session.status === 'expired' ? await markUnpaidIn(trx, nowMs, purchase.id, 'expired', ['pending']) : undefined;
    return { kind: 'not_paid', purchase: expired ?? purchase, session };
  }

  const key = checkoutEntryKey(session.id);
  if (await findEntryByKey(trx, key)) return { kind: 'already_credited', purchase };
  if (purchase.status === 'mismatch') return { kind: 'mismatch', purchase };

  const paid = {
    paid_amount_cents: session.amountSubtotalCents,
    paid_currency: session.currency?.toLowerCase() ?? null,
    payment_intent_id: purchase.payment_intent_id ?? session.paymentIntentId,
    charge_id: purchase.charge_id ?? session.chargeId,
    receipt_url: session.receiptUrl ?? purchase.receipt_url,
    updated_at_ms: nowMs,
  };
  // Promotion codes and tax are off, so the subtotal is what was charged for the package; anything
  // else (a price edited at Stripe, another currency) is left for a person, and audit reports it.
  if (session.amountSubtotalCents !== purchase.price_cents || paid.paid_currency !== purchase.currency) {
    const held = await trx.updateTable('purchases').set({ ...paid, status: 'mismatch' }).where('id', '=', purchase.id).returningAll().executeTakeFirstOrThrow();
    deps.log(
      `billing: ${session.id} paid ${priceText(session.amountSubtotalCents ?? 0, session.currency ?? '?')} but purchase ${purchase.public_id} is ${priceText(purchase.price_cents, purchase.currency)}: not credited`,
    );
    return { kind: 'mismatch', purchase: held };
  }

  const credit = await recordCreditIn(trx, nowMs, {
    userId: purchase.user_id,
    type: 'purchase',
    amountMc: purchase.credits_mc,
    reference: session.id,
    idempotencyKey: key,
  });
  // Credited by another transaction after the look above (the key is the second line of defence):
  // nothing was written, and nothing more is, so the mail and the card are not repeated.
  if (credit.duplicate) return { kind: 'already_credited', purchase };
  // "Paid" wins over a cancel or an expiry that was recorded first.
  let credited = await trx
    .updateTable('purchases')
    .set({ ...paid, status: 'paid', paid_at_ms: nowMs })
    .where('id', '=', purchase.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await queueConfirmationIn(trx, deps, credited, credit.balanceMc, nowMs);
  // "Save the card for auto-recharge": kept with the credits, in the same transaction.
  if (purchase.save_card && session.paymentMethod) {
    await saveCard(trx, purchase.user_id, { paymentMethodId: session.paymentMethod.id, brand: session.paymentMethod.brand, last4: session.paymentMethod.last4 }, nowMs);
  }
  // Refunds or a dispute that arrived before the credits did were kept on the purchase: apply them now.
  if (clawbackTargetMc(credited) > 0) credited = await reclaimToTargetIn(trx, nowMs, credited, keptClawbackKey(credited));
  return { kind: 'credited', purchase: credited };
}

/** The confirmation goes into the outbox in the crediting transaction: credits and their mail commit together. */
export async function queueConfirmationIn(trx: Trx, deps: BillingDeps, purchase: Purchase, balanceMc: number, nowMs: number): Promise<void> {
  const user = await trx.selectFrom('users').select('email').where('id', '=', purchase.user_id).executeTakeFirstOrThrow();
  const credits = creditsProseText(purchase.credits_mc);
  const receipt = receiptHref(purchase);
  // An auto-recharge was not bought by a click: the mail says it happened by itself, and why.
  const automatic = purchase.kind === 'auto_recharge';
  const lines = [
    automatic
      ? 'Auto-recharge bought credits automatically with your saved card, because your available balance fell below the threshold in your billing settings.'
      : 'Thank you for your purchase.',
    '',
    `Package: ${purchase.package_name}`,
    `Paid: ${priceText(purchase.price_cents, purchase.currency)}`,
    `Credits added: ${credits}`,
    `Balance now: ${creditsRoundedDownText(balanceMc)} credits`,
    '',
    ...(receipt ? [`Receipt: ${deps.publicUrl}${receipt}`] : []),
    `Your credits: ${deps.publicUrl}/credits`,
    ...(automatic ? [`Auto-recharge settings: ${deps.publicUrl}/settings/billing`] : []),
  ];
  if (purchase.payment_mode === 'demo') lines.push('', 'This was a demo payment: no card was charged.');
  const subject = automatic ? `Auto-recharge: ${credits} credits added automatically to your tokentab balance` : `${credits} credits added to your tokentab balance`;
  await queueMail(trx, nowMs, { to: user.email, subject, text: lines.join('\n') });
}

/** A purchase can only end unpaid while nothing was paid: "paid" always wins. The updated row, or undefined if it was in no `onlyFrom` status. */
export function markUnpaidIn(trx: Trx, nowMs: number, purchaseId: number, status: 'cancelled' | 'expired' | 'failed', onlyFrom: Purchase['status'][]): Promise<Purchase | undefined> {
  return trx.updateTable('purchases').set({ status, updated_at_ms: nowMs }).where('id', '=', purchaseId).where('status', 'in', onlyFrom).returningAll().executeTakeFirst();
}
