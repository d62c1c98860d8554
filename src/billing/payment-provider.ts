// What fulfilment needs from a payment provider, so Stripe and the demo checkout are read the same
// way: create a Checkout Session, retrieve it, expire it, list paid ones, find a charge's purchase.
import type { PaymentMode } from '../db/schema.ts';

/**
 * How long a Checkout Session stays open: Stripe's default (it is not set on create), which the demo
 * provider copies. Until then an unpaid purchase can be resumed; after it, it is expired.
 */
export const CHECKOUT_SESSION_LIFETIME_MS = 24 * 3600_000;

/** A Checkout Session as fulfilment reads it, whichever provider answered. */
export interface CheckoutSessionView {
  id: string;
  status: 'open' | 'complete' | 'expired';
  paymentStatus: 'paid' | 'unpaid' | 'no_payment_required';
  amountSubtotalCents: number | null;
  currency: string | null;
  /** The purchase it was created for (metadata.purchase_id, else client_reference_id). */
  purchasePublicId: string | null;
  paymentIntentId: string | null;
  chargeId: string | null;
  receiptUrl: string | null;
  /** The card the payment used, kept for auto-recharge when the purchase asked to save it. */
  paymentMethod: CardView | null;
}

export interface CardView {
  id: string;
  brand: string;
  last4: string;
}

/** An off-session payment with the saved card, as the recharge worker reads it. */
export interface PaymentIntentView {
  id: string | null;
  /** failed covers declines and cards that need the customer (authentication_required). */
  status: 'succeeded' | 'processing' | 'failed';
  amountCents: number | null;
  currency: string | null;
  chargeId: string | null;
  receiptUrl: string | null;
  /** card_declined, authentication_required…: why it failed. */
  failureCode: string | null;
  metadata: Record<string, string>;
}

export interface OffSessionCharge {
  customerId: string | null;
  paymentMethodId: string;
  amountCents: number;
  currency: string;
  /** The recharge row: a retry after a network error can never charge twice. */
  idempotencyKey: string;
  metadata: Record<string, string>;
}

/** The provider could not be reached or was briefly unable to answer (429, 5xx): retry later with the same idempotency key. */
export class PaymentNetworkError extends Error {
  override name = 'PaymentNetworkError';
}

export interface NewCheckoutSession {
  purchasePublicId: string;
  /** The provider's customer; null for the demo provider. */
  customerId: string | null;
  productName: string;
  unitAmountCents: number;
  currency: string;
  saveCard: boolean;
  successUrl: string;
  cancelUrl: string;
}

export interface NewCustomer {
  email: string;
  userId: number;
  /** Stable for the user, so a retried create (lost answer) returns the same customer. */
  idempotencyKey: string;
}

export interface PaymentProvider {
  readonly mode: PaymentMode;
  /** Whether sessions are created for a stored customer (Stripe) or not (demo). */
  readonly usesCustomers: boolean;
  createCustomer(input: NewCustomer): Promise<string>;
  /** Idempotent per purchase: the purchase id is the idempotency key. */
  createCheckoutSession(input: NewCheckoutSession): Promise<{ id: string; url: string }>;
  retrieveSession(id: string): Promise<CheckoutSessionView>;
  /** Throws when the session can't be expired (already paid or expired); callers that don't care ignore it. */
  expireSession(id: string): Promise<void>;
  /** Paid sessions created since then, newest first. */
  listPaidSessions(sinceMs: number): AsyncIterable<CheckoutSessionView>;
  /** For a charge whose purchase is not known locally yet: the purchase id the provider holds for it. */
  purchaseIdForCharge(chargeId: string, paymentIntentId: string | null): Promise<string | null>;
  /**
   * Charges the saved card off-session; card errors come back as status failed, network errors and
   * temporary refusals throw PaymentNetworkError, any other refusal (a detached card…) its own error.
   */
  chargeSavedCard(input: OffSessionCharge): Promise<PaymentIntentView>;
  retrievePaymentIntent(id: string): Promise<PaymentIntentView>;
  /** Detaches a saved card from its customer, so it can never be charged again; one already detached is not an error. */
  detachCard(paymentMethodId: string): Promise<void>;
}
