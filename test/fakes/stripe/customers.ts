// Customers and the card PaymentMethods attached to them: the objects, the /v1/customers and /v1/payment_methods routes, `addCard`.
import type Stripe from 'stripe';
import { checkParams, expandPaths, invalid, metadata, missing, PAGINATION, RETRIEVE_PARAMS, text } from './params.ts';
import { clone, expanded, get, must, nowSeconds, paginate, randomId, type Handler, type Store } from './store.ts';

export interface CardDetails {
  brand: string;
  last4: string;
  exp_month?: number;
  exp_year?: number;
}

// The top-level parameters of the SDK's CustomerCreateParams and CustomerUpdateParams (params.ts says why they are checked).
const CUSTOMER_CREATE_PARAMS = ['address', 'balance', 'business_name', 'cash_balance', 'description', 'email', 'expand', 'individual_name', 'invoice_prefix', 'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'payment_method', 'phone', 'preferred_locales', 'shipping', 'source', 'tax', 'tax_exempt', 'tax_id_data', 'test_clock', 'validate'];
const CUSTOMER_UPDATE_PARAMS = ['address', 'balance', 'business_name', 'cash_balance', 'default_source', 'description', 'email', 'expand', 'individual_name', 'invoice_prefix', 'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'phone', 'preferred_locales', 'shipping', 'source', 'tax', 'tax_exempt', 'validate'];

export function createCustomer(store: Store, fields: { email: string | null; name?: string | null; description?: string | null; metadata?: Record<string, string> }): Stripe.Customer {
  const customer: Stripe.Customer = {
    id: randomId('cus_', 14), object: 'customer', address: null, balance: 0, created: nowSeconds(store), currency: null, default_source: null,
    delinquent: false, description: fields.description ?? null, discount: null, email: fields.email, invoice_prefix: randomId('', 8).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null }, livemode: false,
    metadata: fields.metadata ?? {}, name: fields.name ?? null, next_invoice_sequence: 1, phone: null, preferred_locales: [],
    shipping: null, tax_exempt: 'none', test_clock: null,
  };
  store.customers.set(customer.id, customer);
  return customer;
}

export function createCardPaymentMethod(store: Store, details: CardDetails | undefined, customerId: string | null): Stripe.PaymentMethod {
  const brand = details?.brand ?? 'visa';
  const paymentMethod: Stripe.PaymentMethod = {
    id: randomId('pm_'), object: 'payment_method', allow_redisplay: 'unspecified',
    billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
    card: {
      brand, checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US', display_brand: brand, exp_month: details?.exp_month ?? 12,
      exp_year: details?.exp_year ?? new Date(store.clock.now()).getUTCFullYear() + 3, fingerprint: randomId('', 16), funding: 'credit',
      generated_from: null, last4: details?.last4 ?? '4242', networks: { available: [brand], preferred: null }, regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true }, wallet: null,
    },
    created: nowSeconds(store), customer: customerId, customer_account: null, livemode: false, metadata: {}, type: 'card',
  };
  store.paymentMethods.set(paymentMethod.id, paymentMethod);
  return paymentMethod;
}

export const createCustomerRoute: Handler = (store, _params, form) => {
  checkParams(form, CUSTOMER_CREATE_PARAMS);
  return { body: createCustomer(store, { email: text(form.email, 'email'), name: text(form.name, 'name'), description: text(form.description, 'description'), metadata: metadata(form.metadata) }) };
};

export const updateCustomerRoute: Handler = (store, [id], form) => {
  checkParams(form, CUSTOMER_UPDATE_PARAMS);
  const customer = must(store.customers, id!, 'customer');
  if (form.email !== undefined) customer.email = text(form.email, 'email') || null;
  if (form.name !== undefined) customer.name = text(form.name, 'name') || null;
  if (form.description !== undefined) customer.description = text(form.description, 'description') || null;
  if (form.metadata !== undefined) {
    // Stripe merges metadata: an empty value removes that key, an empty `metadata` removes them all.
    const merged: Record<string, string> = form.metadata === '' ? {} : { ...customer.metadata };
    for (const [key, value] of Object.entries(typeof form.metadata === 'object' ? form.metadata : {})) if (value === '') delete merged[key];
    customer.metadata = { ...merged, ...metadata(form.metadata) };
  }
  const defaultPaymentMethod = form.invoice_settings?.default_payment_method;
  if (defaultPaymentMethod !== undefined) {
    const paymentMethodId = text(defaultPaymentMethod, 'invoice_settings[default_payment_method]');
    if (paymentMethodId) {
      const paymentMethod = must(store.paymentMethods, paymentMethodId, 'PaymentMethod', 'invoice_settings[default_payment_method]', 400);
      if (paymentMethod.customer !== customer.id) throw invalid(`The customer does not have a payment method with the ID ${paymentMethodId}. The payment method must be attached to the customer.`, 'invoice_settings[default_payment_method]', 'resource_missing');
    }
    customer.invoice_settings.default_payment_method = paymentMethodId || null;
  }
  return { body: expanded(store, customer, expandPaths(form)) };
};

export const retrieveCustomerRoute: Handler = (store, [id], form) => {
  checkParams(form, RETRIEVE_PARAMS);
  return { body: expanded(store, must(store.customers, id!, 'customer'), expandPaths(form)) };
};

export const customerPaymentMethodsRoute: Handler = (store, [id], form) => {
  checkParams(form, ['allow_redisplay', 'expand', 'type', ...PAGINATION]);
  must(store.customers, id!, 'customer');
  const type = text(form.type, 'type');
  const attached = [...store.paymentMethods.values()].filter((pm) => pm.customer === id && (type === null || pm.type === type)).reverse();
  return { body: paginate(store, attached, form, `/v1/customers/${id}/payment_methods`) };
};

export const customerPaymentMethodRoute: Handler = (store, [customerId, id], form) => {
  checkParams(form, RETRIEVE_PARAMS);
  must(store.customers, customerId!, 'customer');
  const paymentMethod = store.paymentMethods.get(id!);
  if (!paymentMethod || paymentMethod.customer !== customerId) throw missing('PaymentMethod', id!, 'payment_method');
  return { body: expanded(store, paymentMethod, expandPaths(form)) };
};

/** Detach, as Stripe does: the card leaves its customer and can no longer be charged; a card on no customer is refused. */
export const detachPaymentMethodRoute: Handler = (store, [id], form) => {
  checkParams(form, ['expand']);
  const paymentMethod = must(store.paymentMethods, id!, 'PaymentMethod');
  if (!paymentMethod.customer) throw invalid('The payment method you provided is not attached to a customer so detachment is impossible.', undefined, 'payment_method_unexpected_state');
  paymentMethod.customer = null;
  return { body: expanded(store, paymentMethod, expandPaths(form)) };
};

export function addCard(store: Store, customerId: string, details?: CardDetails, cardOptions: { setDefault?: boolean } = {}): Stripe.PaymentMethod {
  const customer = get(store.customers, customerId, 'customer');
  const paymentMethod = createCardPaymentMethod(store, details, customerId);
  if (cardOptions.setDefault) customer.invoice_settings.default_payment_method = paymentMethod.id;
  return clone(paymentMethod);
}
