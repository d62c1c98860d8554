// Charges and what follows them: the charge each payment attempt makes, and the `refund` and `dispute` test controls.
import type Stripe from 'stripe';
import { clone, get, nowSeconds, randomId, type Store } from './store.ts';

export function createCharge(
  store: Store,
  paymentIntent: Stripe.PaymentIntent,
  paymentMethod: Stripe.PaymentMethod,
  status: 'succeeded' | 'failed' | 'pending',
  failure?: { code: string; declineCode: string; message: string },
): Stripe.Charge {
  const id = randomId('ch_');
  const paid = status === 'succeeded';
  const card = paymentMethod.card;
  const charge: Stripe.Charge = {
    id, object: 'charge', amount: paymentIntent.amount, amount_captured: paid ? paymentIntent.amount : 0, amount_refunded: 0, application: null,
    application_fee: null, application_fee_amount: null, balance_transaction: paid ? randomId('txn_') : null,
    billing_details: paymentMethod.billing_details, calculated_statement_descriptor: 'TOKENTAB', captured: paid, created: nowSeconds(store),
    currency: paymentIntent.currency, customer: typeof paymentIntent.customer === 'string' ? paymentIntent.customer : null,
    description: paymentIntent.description, disputed: false, failure_balance_transaction: null, failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null, fraud_details: {}, livemode: false,
    // Stripe copies the PaymentIntent's metadata onto the charges it makes.
    metadata: { ...paymentIntent.metadata }, on_behalf_of: null,
    outcome: failure
      ? { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'declined_by_network', reason: failure.declineCode, risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' }
      : { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
    paid, payment_intent: paymentIntent.id, payment_method: paymentMethod.id,
    payment_method_details: card
      ? {
          type: 'card',
          card: {
            amount_authorized: paid ? paymentIntent.amount : null, authorization_code: paid ? '123456' : null, brand: card.brand,
            checks: card.checks, country: card.country, electronic_commerce_indicator: null, exp_month: card.exp_month, exp_year: card.exp_year,
            fingerprint: card.fingerprint ?? null, funding: card.funding, installments: null, last4: card.last4, mandate: null, network: card.brand,
            network_transaction_id: paid ? randomId('', 15) : null, regulated_status: 'unregulated', three_d_secure: null,
            transaction_link_id: null, wallet: null,
          },
        }
      : { type: paymentMethod.type },
    receipt_email: null, receipt_number: null, receipt_url: paid || status === 'pending' ? `${store.baseUrl}/receipts/${id}` : null,
    refunded: false, review: null, shipping: null, source: null, source_transfer: null, statement_descriptor: null,
    statement_descriptor_suffix: null, status, transfer_data: null, transfer_group: null,
  };
  store.charges.set(id, charge);
  paymentIntent.latest_charge = id;
  return charge;
}

export function refund(store: Store, chargeId: string, amount?: number): { charge: Stripe.Charge; refund: Stripe.Refund } {
  const charge = get(store.charges, chargeId, 'charge');
  const rest = charge.amount - charge.amount_refunded;
  const value = amount ?? rest;
  if (charge.status !== 'succeeded') throw new Error(`stripe fake: charge ${chargeId} is ${charge.status}; only a succeeded charge can be refunded`);
  if (!Number.isInteger(value) || value <= 0 || value > rest) throw new Error(`stripe fake: refund of ${value} on ${chargeId} with ${rest} left to refund`);
  const created: Stripe.Refund = {
    id: randomId('re_'), object: 'refund', amount: value, balance_transaction: randomId('txn_'), charge: charge.id, created: nowSeconds(store),
    currency: charge.currency, customer: charge.customer, customer_account: null,
    destination_details: { type: 'card', card: { reference: randomId('', 12), reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } },
    metadata: {}, payment_intent: charge.payment_intent, payment_method: charge.payment_method, reason: null, receipt_number: null,
    source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
  };
  store.refunds.set(created.id, created);
  charge.amount_refunded += value;
  charge.refunded = charge.amount_refunded === charge.amount;
  return { charge: clone(charge), refund: clone(created) };
}

export function dispute(store: Store, chargeId: string, options: { status?: Stripe.Dispute.Status; amount?: number; reason?: string } = {}): Stripe.Dispute {
  const charge = get(store.charges, chargeId, 'charge');
  const existing = store.disputeByCharge.get(chargeId);
  // A dispute keeps its id from needs_response to won or lost; calling again moves the same one along.
  if (existing) {
    const found = store.disputes.get(existing)!;
    if (options.status) found.status = options.status;
    if (options.amount !== undefined) found.amount = options.amount;
    if (options.reason) found.reason = options.reason;
    return clone(found);
  }
  const created = nowSeconds(store);
  const card = charge.payment_method_details?.card;
  const nullEvidence = Object.fromEntries(
    ['access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal', 'customer_communication', 'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature', 'duplicate_charge_documentation', 'duplicate_charge_explanation', 'duplicate_charge_id', 'product_description', 'receipt', 'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation', 'service_date', 'service_documentation', 'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number', 'uncategorized_file', 'uncategorized_text'].map((key) => [key, null]),
  );
  const made: Stripe.Dispute = {
    id: randomId('dp_'), object: 'dispute', amount: options.amount ?? charge.amount, balance_transactions: [],
    charge: charge.id, created, currency: charge.currency, enhanced_eligibility_types: [],
    evidence: { ...nullEvidence, enhanced_evidence: {} } as Stripe.Dispute.Evidence,
    evidence_details: { due_by: created + 7 * 24 * 3600, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: 'manual' },
    intended_submission_method: null, is_charge_refundable: false, livemode: false, metadata: {}, payment_intent: charge.payment_intent,
    payment_method_details: { type: 'card', card: { brand: card?.brand ?? 'visa', case_type: 'chargeback', network: card?.network ?? 'visa', network_reason_code: '10.4' } },
    reason: options.reason ?? 'fraudulent', status: options.status ?? 'needs_response',
  };
  store.disputes.set(made.id, made);
  store.disputeByCharge.set(chargeId, made.id);
  charge.disputed = true;
  return clone(made);
}
