// PaymentIntents: the object, POST /v1/payment_intents (off-session charges with the scripted card outcome), success and failure.
import type Stripe from 'stripe';
import { createCharge } from './charges.ts';
import { boolean, checkParams, expandPaths, integer, invalid, metadata, text } from './params.ts';
import { clone, expanded, must, nowSeconds, randomId, type Handler, type Store } from './store.ts';

// The top-level parameters of the SDK's PaymentIntentCreateParams (params.ts says why they are checked).
const PAYMENT_INTENT_CREATE_PARAMS = ['amount', 'currency', 'allowed_payment_method_types', 'amount_details', 'application_fee_amount', 'automatic_payment_methods', 'capture_method', 'confirm', 'confirmation_method', 'confirmation_token', 'customer', 'customer_account', 'description', 'error_on_requires_action', 'excluded_payment_method_types', 'expand', 'hooks', 'mandate', 'mandate_data', 'metadata', 'off_session', 'on_behalf_of', 'payment_details', 'payment_method', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'radar_options', 'receipt_email', 'return_url', 'setup_future_usage', 'shipping', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'transfer_group', 'use_stripe_sdk'];

export function createPaymentIntent(store: Store, fields: {
  amount: number;
  currency: string;
  customer: string | null;
  metadata: Record<string, string>;
  paymentMethod: string | null;
  setupFutureUsage: 'on_session' | 'off_session' | null;
  description?: string | null;
}): Stripe.PaymentIntent {
  const id = randomId('pi_');
  const paymentIntent: Stripe.PaymentIntent = {
    id, object: 'payment_intent', allowed_payment_method_types: null, amount: fields.amount, amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0, application: null, application_fee_amount: null, automatic_payment_methods: null, canceled_at: null,
    cancellation_reason: null, capture_method: 'automatic_async', client_secret: `${id}_secret_${randomId('', 25)}`,
    confirmation_method: 'automatic', created: nowSeconds(store), currency: fields.currency, customer: fields.customer, customer_account: null,
    description: fields.description ?? null, excluded_payment_method_types: null, last_payment_error: null, latest_charge: null, livemode: false,
    managed_payments: null, metadata: fields.metadata, next_action: null, on_behalf_of: null, payment_method: fields.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_record: null, processing: null, receipt_email: null, review: null, setup_future_usage: fields.setupFutureUsage, shipping: null,
    source: null, statement_descriptor: null, statement_descriptor_suffix: null,
    status: fields.paymentMethod ? 'requires_confirmation' : 'requires_payment_method', transfer_data: null, transfer_group: null,
  };
  store.paymentIntents.set(id, paymentIntent);
  return paymentIntent;
}

export function succeed(store: Store, paymentIntent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod): void {
  createCharge(store, paymentIntent, paymentMethod, 'succeeded');
  paymentIntent.status = 'succeeded';
  paymentIntent.amount_received = paymentIntent.amount;
  paymentIntent.payment_method = paymentMethod.id;
}

/** A failed attempt leaves the intent `requires_payment_method`; the 402 body carries both objects. */
function fail(store: Store, paymentIntent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod, code: string, declineCode: string, message: string) {
  const charge = createCharge(store, paymentIntent, paymentMethod, 'failed', { code, declineCode, message });
  const error = {
    type: 'card_error' as const, charge: charge.id, code, decline_code: declineCode,
    doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`,
    message, payment_method: clone(paymentMethod),
  };
  paymentIntent.status = 'requires_payment_method';
  paymentIntent.payment_method = null;
  paymentIntent.last_payment_error = error as Stripe.PaymentIntent.LastPaymentError;
  return { ...error, payment_intent: clone(paymentIntent), request_log_url: `${store.baseUrl}/logs/${randomId('req_', 14)}` };
}

export const createPaymentIntentRoute: Handler = (store, _params, form) => {
  checkParams(form, PAYMENT_INTENT_CREATE_PARAMS);
  if (form.amount === undefined) throw invalid('Missing required param: amount.', 'amount', 'parameter_missing');
  const amount = integer(form.amount, 'amount');
  const currency = text(form.currency, 'currency')?.toLowerCase();
  if (!currency) throw invalid('Missing required param: currency.', 'currency', 'parameter_missing');
  if (amount < 1 || (currency === 'usd' && amount < 50)) throw invalid('Amount must be at least $0.50 usd', 'amount', 'amount_too_small');
  const customerId = text(form.customer, 'customer');
  if (customerId !== null) must(store.customers, customerId, 'customer', 'customer', 400);
  const paymentMethodId = text(form.payment_method, 'payment_method');
  const paymentMethod = paymentMethodId === null ? null : must(store.paymentMethods, paymentMethodId, 'PaymentMethod', 'payment_method', 400);
  if (paymentMethod?.customer && paymentMethod.customer !== customerId) {
    throw invalid(
      customerId === null
        ? 'The provided PaymentMethod belongs to a Customer. Please include the Customer in the `customer` parameter on the PaymentIntent.'
        : 'The provided PaymentMethod is attached to another Customer.',
      'payment_method',
    );
  }
  const confirm = form.confirm === undefined ? false : boolean(form.confirm, 'confirm');
  const offSession = form.off_session === undefined ? false : form.off_session === 'one_off' || form.off_session === 'recurring' || boolean(form.off_session, 'off_session');
  if (form.off_session !== undefined && !confirm) throw invalid('You can only pass `off_session` when `confirm` is true.', 'off_session');
  const setupFutureUsage = text(form.setup_future_usage, 'setup_future_usage');
  if (setupFutureUsage !== null && setupFutureUsage !== 'on_session' && setupFutureUsage !== 'off_session') throw invalid('Invalid setup_future_usage', 'setup_future_usage');
  // Stripe never falls back to the customer's default card here: an off-session charge must name its payment_method.
  if (confirm && !paymentMethod) {
    throw invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with a card, pass `payment_method`.", 'payment_method', 'payment_intent_unexpected_state');
  }
  const paymentIntent = createPaymentIntent(store, {
    amount, currency, customer: customerId, metadata: metadata(form.metadata), paymentMethod: paymentMethodId, setupFutureUsage,
    description: text(form.description, 'description'),
  });
  if (!confirm || !paymentMethod) return { body: expanded(store, paymentIntent, expandPaths(form)) };
  const card = store.card;
  if (card.outcome === 'decline') {
    return { status: 402, body: { error: fail(store, paymentIntent, paymentMethod, 'card_declined', card.declineCode, 'Your card was declined.') } };
  }
  if (card.outcome === 'authentication_required') {
    if (offSession) {
      return { status: 402, body: { error: fail(store, paymentIntent, paymentMethod, 'authentication_required', 'authentication_required', 'Your card was declined. This transaction requires authentication.') } };
    }
    // On session the customer could still authenticate, so Stripe answers 200 and asks for an action.
    paymentIntent.status = 'requires_action';
    paymentIntent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `${store.baseUrl}/3ds/${paymentIntent.id}` } };
    return { body: expanded(store, paymentIntent, expandPaths(form)) };
  }
  succeed(store, paymentIntent, paymentMethod);
  return { body: expanded(store, paymentIntent, expandPaths(form)) };
};
