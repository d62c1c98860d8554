// The Stripe side of buying credits, through the official SDK: the client factory (honouring
// STRIPE_API_BASE) and the PaymentProvider that creates, reads, expires and lists Checkout Sessions.
import type Stripe from 'stripe';
import { stripeSdk } from './stripe-sdk.ts';
import type { Config } from '../config.ts';
import { PaymentNetworkError, type CardView, type CheckoutSessionView, type NewCheckoutSession, type NewCustomer, type PaymentProvider, type PaymentIntentView } from './payment-provider.ts';

export function createStripeClient(config: Config): Stripe {
  if (!config.stripeSecretKey) throw new Error('STRIPE_SECRET_KEY is not set');
  const stripeConfig: Stripe.StripeConfig = {
    // Every POST carries an idempotency key, so retrying a dropped connection never charges twice.
    maxNetworkRetries: 2,
    timeout: 20_000,
    appInfo: { name: 'tokentab' },
  };
  if (config.stripeApiBase) {
    // Tests (and stripe-mock) answer on another host/port/protocol; the path part is ignored, as the SDK adds /v1 itself.
    const base = new URL(config.stripeApiBase);
    const protocol = base.protocol === 'http:' ? 'http' : 'https';
    stripeConfig.host = base.hostname;
    stripeConfig.port = base.port || (protocol === 'http' ? 80 : 443);
    stripeConfig.protocol = protocol;
  }
  const StripeClient = stripeSdk();
  return new StripeClient(config.stripeSecretKey, stripeConfig);
}

/** Fulfilment reads the charge (for its receipt) and the card along with the session: one call, before any transaction. */
const SESSION_EXPAND = ['payment_intent.latest_charge', 'payment_intent.payment_method'];

function cardOf(method: string | Stripe.PaymentMethod | null | undefined): CardView | null {
  if (!method || typeof method === 'string' || !method.card) return null;
  return { id: method.id, brand: method.card.brand, last4: method.card.last4 };
}

export function intentView(intent: Stripe.PaymentIntent): PaymentIntentView {
  const charge = typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  // Anything but succeeded or processing needs the customer (requires_action) or another card: failed.
  const status = intent.status === 'succeeded' ? 'succeeded' : intent.status === 'processing' ? 'processing' : 'failed';
  return {
    id: intent.id,
    status,
    amountCents: intent.amount,
    currency: intent.currency,
    chargeId: charge?.id ?? idOf(intent.latest_charge),
    receiptUrl: charge?.receipt_url ?? null,
    failureCode: status === 'failed' ? (intent.last_payment_error?.code ?? (intent.status === 'requires_action' ? 'authentication_required' : intent.status)) : null,
    metadata: { ...(intent.metadata ?? {}) },
  };
}

/**
 * For the off-session calls: a dropped connection, a conflict on the key (409), a rate limit (429) or
 * a server error (5xx) is worth retrying later with the same key; any other refusal is kept as is.
 */
function classified(error: unknown): unknown {
  if (error instanceof stripeSdk().errors.StripeConnectionError) return new PaymentNetworkError(error.message);
  if (error instanceof stripeSdk().errors.StripeError) {
    const status = error.statusCode ?? 0;
    if (status === 409 || status === 429 || status >= 500) return new PaymentNetworkError(`${status} ${error.type}: ${error.message}`);
  }
  return error;
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

export function sessionView(session: Stripe.Checkout.Session): CheckoutSessionView {
  const paymentIntent = typeof session.payment_intent === 'object' ? session.payment_intent : null;
  const charge = paymentIntent && typeof paymentIntent.latest_charge === 'object' ? paymentIntent.latest_charge : null;
  return {
    id: session.id,
    // Anything newer than these (the API adds values) is read as not paid: never credited by guess.
    status: session.status === 'complete' ? 'complete' : session.status === 'expired' ? 'expired' : 'open',
    paymentStatus: session.payment_status === 'paid' ? 'paid' : session.payment_status === 'no_payment_required' ? 'no_payment_required' : 'unpaid',
    amountSubtotalCents: session.amount_subtotal,
    currency: session.currency,
    purchasePublicId: session.metadata?.purchase_id ?? session.client_reference_id ?? null,
    paymentIntentId: idOf(session.payment_intent),
    chargeId: charge?.id ?? idOf(paymentIntent?.latest_charge),
    receiptUrl: charge?.receipt_url ?? null,
    paymentMethod: cardOf(paymentIntent?.payment_method),
  };
}

export function stripeProvider(stripe: Stripe): PaymentProvider {
  return {
    mode: 'stripe',
    usesCustomers: true,

    async createCustomer(input: NewCustomer) {
      const customer = await stripe.customers.create(
        { email: input.email, metadata: { user_id: String(input.userId) } },
        { idempotencyKey: input.idempotencyKey },
      );
      return customer.id;
    },

    async createCheckoutSession(input: NewCheckoutSession) {
      const metadata = { purchase_id: input.purchasePublicId };
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          ...(input.customerId ? { customer: input.customerId } : {}),
          client_reference_id: input.purchasePublicId,
          metadata,
          line_items: [
            { quantity: 1, price_data: { currency: input.currency, unit_amount: input.unitAmountCents, product_data: { name: input.productName } } },
          ],
          // The charge inherits the intent's metadata, so a refund or dispute finds its purchase
          // even when it arrives before the purchase was credited.
          payment_intent_data: { metadata, ...(input.saveCard ? { setup_future_usage: 'off_session' as const } : {}) },
          // Off, so amount_subtotal can be compared with the package price as it is.
          allow_promotion_codes: false,
          automatic_tax: { enabled: false },
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
        },
        { idempotencyKey: input.purchasePublicId },
      );
      if (!session.url) throw new Error(`Checkout Session ${session.id} has no url`);
      return { id: session.id, url: session.url };
    },

    async retrieveSession(id) {
      return sessionView(await stripe.checkout.sessions.retrieve(id, { expand: SESSION_EXPAND }));
    },

    async expireSession(id) {
      await stripe.checkout.sessions.expire(id);
    },

    async *listPaidSessions(sinceMs) {
      const list = stripe.checkout.sessions.list({ created: { gte: Math.floor(sinceMs / 1000) }, status: 'complete', limit: 100 });
      for await (const session of list) {
        if (session.payment_status === 'paid') yield sessionView(session);
      }
    },

    async chargeSavedCard(input) {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: input.amountCents,
            currency: input.currency,
            ...(input.customerId ? { customer: input.customerId } : {}),
            payment_method: input.paymentMethodId,
            off_session: true,
            confirm: true,
            metadata: input.metadata,
            expand: ['latest_charge'],
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return intentView(intent);
      } catch (error) {
        if (error instanceof stripeSdk().errors.StripeCardError) {
          const intent = (error as Stripe.errors.StripeCardError & { payment_intent?: Stripe.PaymentIntent }).payment_intent;
          return { id: intent?.id ?? null, status: 'failed', amountCents: input.amountCents, currency: input.currency, chargeId: null, receiptUrl: null, failureCode: error.code ?? 'card_declined', metadata: input.metadata };
        }
        throw classified(error);
      }
    },

    async retrievePaymentIntent(id) {
      try {
        return intentView(await stripe.paymentIntents.retrieve(id, { expand: ['latest_charge'] }));
      } catch (error) {
        throw classified(error);
      }
    },

    async detachCard(paymentMethodId) {
      try {
        await stripe.paymentMethods.detach(paymentMethodId);
      } catch (error) {
        // Detached already (at the Dashboard, or by an earlier try whose answer was lost): the goal is met.
        if (error instanceof stripeSdk().errors.StripeInvalidRequestError && error.code === 'payment_method_unexpected_state') return;
        throw classified(error);
      }
    },

    async purchaseIdForCharge(chargeId, paymentIntentId) {
      const charge = await stripe.charges.retrieve(chargeId);
      if (charge.metadata?.purchase_id) return charge.metadata.purchase_id;
      const intent = paymentIntentId ?? idOf(charge.payment_intent);
      if (!intent) return null;
      const sessions = await stripe.checkout.sessions.list({ payment_intent: intent, limit: 1 });
      const session = sessions.data[0];
      return session ? (session.metadata?.purchase_id ?? session.client_reference_id ?? null) : null;
    },
  };
}
