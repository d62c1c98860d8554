// Every idempotency key tokentab writes, spelled once: the UNIQUE keys of ledger entries (a call's
// usage, a Checkout Session, a recharge's PaymentIntent, a refund's cumulative amount, a dispute's
// state), the keys sent to the payment provider, and the prefixes the audits' SQL matches entries by
// (docs/architecture.md, Money). The strings are stored: changing one would credit or charge twice.

/** Prefix of a call's usage deduction. */
export const USAGE_KEY_PREFIX = 'usage:';
/** Prefix of a Checkout purchase's credit. */
export const CHECKOUT_KEY_PREFIX = 'checkout:';
/** Prefix of an auto-recharge's credit, keyed by its PaymentIntent. */
export const PAYMENT_INTENT_KEY_PREFIX = 'pi:';
/** Prefix of what a refund takes back. */
export const REFUND_KEY_PREFIX = 'refund:';
/** Prefix of what a dispute takes back or gives back. */
export const DISPUTE_KEY_PREFIX = 'dispute:';

/** The SQL LIKE pattern of every key under one of the prefixes above (none holds a LIKE wildcard, % or _). */
export function keysLike(prefix: string): string {
  return `${prefix}%`;
}

/** A call's usage deduction, one per request id: usage:{request id}. */
export function usageEntryKey(requestId: string): string {
  return `${USAGE_KEY_PREFIX}${requestId}`;
}

/** A Checkout purchase's credit, one per session: checkout:{session}. */
export function checkoutEntryKey(sessionId: string): string {
  return `${CHECKOUT_KEY_PREFIX}${sessionId}`;
}

/** An auto-recharge's credit, one per PaymentIntent: pi:{intent}. */
export function paymentIntentEntryKey(paymentIntentId: string): string {
  return `${PAYMENT_INTENT_KEY_PREFIX}${paymentIntentId}`;
}

/** A refund's clawback, one per cumulative refunded amount of a charge: refund:{charge}:{cents}. */
export function refundEntryKey(chargeId: string, amountRefundedCents: number): string {
  return `${REFUND_KEY_PREFIX}${chargeId}:${amountRefundedCents}`;
}

/** A dispute that withdrew funds, one per disputed amount: dispute:{dispute}:withdrawn:{cents}. */
export function disputeWithdrawnEntryKey(disputeId: string, amountCents: number): string {
  return `${DISPUTE_KEY_PREFIX}${disputeId}:withdrawn:${amountCents}`;
}

/** A dispute that gave the funds back (won, or withdrawn by the customer): dispute:{dispute}:reinstated. */
export function disputeReinstatedEntryKey(disputeId: string): string {
  return `${DISPUTE_KEY_PREFIX}${disputeId}:reinstated`;
}

/** Sent to the payment provider when charging a recharge row, so a retry never charges twice: recharge-{row}. */
export function rechargeChargeKey(rechargeId: number): string {
  return `recharge-${rechargeId}`;
}

/** Sent to the payment provider when creating the user's customer, stable per user: customer-{user}-{created at ms}. */
export function customerCreateKey(userId: number, userCreatedAtMs: number): string {
  return `customer-${userId}-${userCreatedAtMs}`;
}

/** Prefix of a promo code's credit. */
export const PROMO_KEY_PREFIX = 'promo-grant:';
/** Prefix of what expiry took from a promo grant. */
export const PROMO_EXPIRY_KEY_PREFIX = 'promo-expiry:';

/** A redeemed code's credit, one per grant (a user's redemption of a code): promo-grant:{grant}. */
export function promoEntryKey(grantId: number): string {
  return `${PROMO_KEY_PREFIX}${grantId}`;
}

/**
 * What expiry took from a grant, keyed by what was left of it then: promo-expiry:{grant}:{remaining mc}.
 * Usually once; again only when a call in flight held part of it, and what is left only ever shrinks.
 */
export function promoExpiryEntryKey(grantId: number, remainingMc: number): string {
  return `${PROMO_EXPIRY_KEY_PREFIX}${grantId}:${remainingMc}`;
}
