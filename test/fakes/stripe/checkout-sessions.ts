// Checkout Sessions: the object, the /v1/checkout/sessions routes, and the controls that play the buyer (pay, async payment, expire).
import type Stripe from 'stripe';
import { createCharge } from './charges.ts';
import { createCardPaymentMethod, createCustomer, type CardDetails } from './customers.ts';
import { boolean, checkParams, expandPaths, integer, invalid, metadata, PAGINATION, RETRIEVE_PARAMS, text, url } from './params.ts';
import { createPaymentIntent, succeed } from './payment-intents.ts';
import { clone, expanded, must, nowSeconds, paginate, randomId, type Handler, type SessionExtras, type Store } from './store.ts';

export interface PaySessionOptions {
  /** Defaults to whether the session asked for `payment_intent_data[setup_future_usage]`. */
  savePaymentMethod?: boolean;
  /** Defaults to a Visa ending 4242. */
  card?: CardDetails;
  /** The email typed into Checkout when the session had neither `customer_email` nor a customer. */
  email?: string;
}

// The top-level parameters of the SDK's SessionCreateParams and SessionListParams (params.ts says why they are checked).
const SESSION_CREATE_PARAMS = ['adaptive_pricing', 'after_expiration', 'allow_promotion_codes', 'allowed_payment_method_types', 'automatic_tax', 'billing_address_collection', 'branding_settings', 'cancel_url', 'client_reference_id', 'consent_collection', 'currency', 'custom_fields', 'custom_text', 'customer', 'customer_account', 'customer_creation', 'customer_email', 'customer_update', 'discounts', 'excluded_payment_method_types', 'expand', 'expires_at', 'integration_identifier', 'invoice_creation', 'line_items', 'locale', 'managed_payments', 'metadata', 'mode', 'name_collection', 'optional_items', 'origin_context', 'payment_intent_data', 'payment_method_collection', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'permissions', 'phone_number_collection', 'redirect_on_completion', 'return_url', 'saved_payment_method_options', 'setup_intent_data', 'shipping_address_collection', 'shipping_options', 'submit_type', 'subscription_data', 'success_url', 'tax_id_collection', 'ui_mode', 'wallet_options'];
const SESSION_LIST_PARAMS = ['created', 'customer', 'customer_account', 'customer_details', 'expand', 'payment_intent', 'payment_link', 'status', 'subscription', ...PAGINATION];

function newSession(store: Store, fields: Omit<SessionExtras, 'seq'> & { base: Partial<Stripe.Checkout.Session> & Pick<Stripe.Checkout.Session, 'amount_subtotal' | 'currency'> }): Stripe.Checkout.Session {
  const id = randomId('cs_test_', 58);
  const created = nowSeconds(store);
  const session: Stripe.Checkout.Session = {
    id, object: 'checkout.session', adaptive_pricing: null, after_expiration: null, allow_promotion_codes: null, allowed_payment_method_types: null,
    amount_total: fields.base.amount_subtotal, automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null, cancel_url: null, client_reference_id: null, client_secret: null, collected_information: null, consent: null,
    consent_collection: null, created, currency_conversion: null, custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null, customer_account: null, customer_creation: 'if_required', customer_details: null, customer_email: null, discounts: [],
    expires_at: created + 24 * 3600, integration_identifier: null, invoice: null,
    invoice_creation: { enabled: false, invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null } },
    livemode: false, locale: null, managed_payments: null, metadata: {},
    mode: 'payment', origin_context: null, payment_intent: null, payment_link: null, payment_method_collection: 'if_required',
    payment_method_configuration_details: null, payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'], payment_status: 'unpaid', permissions: null, phone_number_collection: { enabled: false },
    recovered_from: null, saved_payment_method_options: null, setup_intent: null, shipping_address_collection: null, shipping_cost: null,
    shipping_options: [], status: 'open', submit_type: null, subscription: null, success_url: null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 }, ui_mode: 'hosted_page', url: `${store.baseUrl}/pay/${id}`,
    wallet_options: null, ...fields.base,
  };
  store.sessions.set(id, session);
  store.sessionExtras.set(id, { seq: ++store.seq, lineItems: fields.lineItems, setupFutureUsage: fields.setupFutureUsage, paymentIntentMetadata: fields.paymentIntentMetadata });
  return session;
}

function customerDetails(email: string | null): Stripe.Checkout.Session.CustomerDetails {
  return { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: [] };
}

// ---- API handlers ----

export const createSessionRoute: Handler = (store, _params, form) => {
  checkParams(form, SESSION_CREATE_PARAMS);
  if (form.mode !== 'payment') throw invalid('The fake supports mode=payment only.', 'mode');
  if (!Array.isArray(form.line_items) || form.line_items.length === 0) throw invalid('You must provide at least one line item when `mode` is `payment`.', 'line_items');
  let currency: string | null = null;
  const lineItems = (form.line_items as unknown[]).map((item: any, index) => {
    const param = `line_items[${index}]`;
    if (item?.price !== undefined) throw invalid('The fake supports line_items[][price_data] only.', `${param}[price]`);
    const priceData = item?.price_data;
    if (typeof priceData !== 'object') throw invalid('You must specify either `price` or `price_data` for each line item.', param);
    const itemCurrency = text(priceData.currency, `${param}[price_data][currency]`)?.toLowerCase();
    if (!itemCurrency) throw invalid(`Missing required param: ${param}[price_data][currency].`, `${param}[price_data][currency]`, 'parameter_missing');
    if (currency !== null && currency !== itemCurrency) throw invalid('All line items must have the same currency.', `${param}[price_data][currency]`);
    currency = itemCurrency;
    if (priceData.unit_amount === undefined) throw invalid(`Missing required param: ${param}[price_data][unit_amount].`, `${param}[price_data][unit_amount]`, 'parameter_missing');
    const unitAmount = integer(priceData.unit_amount, `${param}[price_data][unit_amount]`);
    if (unitAmount < 0) throw invalid('This value must be greater than or equal to 0.', `${param}[price_data][unit_amount]`);
    const name = text(priceData.product_data?.name, `${param}[price_data][product_data][name]`);
    if (!name) throw invalid(`Missing required param: ${param}[price_data][product_data][name].`, `${param}[price_data][product_data][name]`, 'parameter_missing');
    if (item.quantity === undefined) throw invalid(`Missing required param: ${param}[quantity].`, `${param}[quantity]`, 'parameter_missing');
    const quantity = integer(item.quantity, `${param}[quantity]`);
    if (quantity < 1) throw invalid('This value must be greater than or equal to 1.', `${param}[quantity]`);
    return { name, unitAmount, quantity };
  });
  const customerId = text(form.customer, 'customer');
  if (customerId !== null) must(store.customers, customerId, 'customer', 'customer', 400);
  const customerEmail = text(form.customer_email, 'customer_email');
  if (customerId !== null && customerEmail !== null) throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer_email');
  const paymentIntentData = form.payment_intent_data ?? {};
  const setupFutureUsage = text(paymentIntentData.setup_future_usage, 'payment_intent_data[setup_future_usage]');
  if (setupFutureUsage !== null && setupFutureUsage !== 'on_session' && setupFutureUsage !== 'off_session') {
    throw invalid(`Invalid payment_intent_data[setup_future_usage]: must be one of on_session or off_session`, 'payment_intent_data[setup_future_usage]');
  }
  const taxEnabled = form.automatic_tax?.enabled === undefined ? false : boolean(form.automatic_tax.enabled, 'automatic_tax[enabled]');
  const clientReferenceId = text(form.client_reference_id, 'client_reference_id');
  if (clientReferenceId !== null && clientReferenceId.length > 200) throw invalid('client_reference_id can have up to 200 characters', 'client_reference_id');
  const created = nowSeconds(store);
  let expiresAt = created + 24 * 3600;
  if (form.expires_at !== undefined) {
    expiresAt = integer(form.expires_at, 'expires_at');
    if (expiresAt < created + 30 * 60 || expiresAt > created + 24 * 3600) throw invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
  }
  const amount = lineItems.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);
  const session = newSession(store, {
    lineItems,
    setupFutureUsage,
    paymentIntentMetadata: metadata(paymentIntentData.metadata, 'payment_intent_data[metadata]'),
    base: {
      allow_promotion_codes: form.allow_promotion_codes === undefined ? null : boolean(form.allow_promotion_codes, 'allow_promotion_codes'),
      amount_subtotal: amount, amount_total: amount,
      automatic_tax: taxEnabled ? { enabled: true, liability: { type: 'self' }, provider: 'stripe', status: 'requires_location_inputs' } : { enabled: false, liability: null, provider: null, status: null },
      cancel_url: url(form.cancel_url, 'cancel_url'), client_reference_id: clientReferenceId, currency, customer: customerId,
      customer_creation: customerId ? null : form.customer_creation === 'always' ? 'always' : 'if_required',
      customer_details: customerEmail ? customerDetails(customerEmail) : null, customer_email: customerEmail, expires_at: expiresAt,
      metadata: metadata(form.metadata), success_url: url(form.success_url, 'success_url'),
    },
  });
  return { body: expanded(store, session, expandPaths(form)) };
};

export const listSessionsRoute: Handler = (store, _params, form) => {
  checkParams(form, SESSION_LIST_PARAMS);
  let items = [...store.sessions.values()].sort((a, b) => b.created - a.created || store.sessionExtras.get(b.id)!.seq - store.sessionExtras.get(a.id)!.seq);
  const created = form.created;
  if (typeof created === 'string') items = items.filter((s) => s.created === integer(created, 'created'));
  else if (created !== undefined) {
    const bound = (op: string) => (created[op] === undefined ? null : integer(created[op], `created[${op}]`));
    const [gt, gte, lt, lte] = ['gt', 'gte', 'lt', 'lte'].map(bound);
    items = items.filter((s) => (gt === null || s.created > gt!) && (gte === null || s.created >= gte!) && (lt === null || s.created < lt!) && (lte === null || s.created <= lte!));
  }
  const status = text(form.status, 'status');
  if (status !== null) {
    if (!['open', 'complete', 'expired'].includes(status)) throw invalid(`Invalid status: must be one of open, complete, or expired`, 'status');
    items = items.filter((s) => s.status === status);
  }
  const customer = text(form.customer, 'customer');
  if (customer !== null) items = items.filter((s) => s.customer === customer);
  const paymentIntent = text(form.payment_intent, 'payment_intent');
  if (paymentIntent !== null) items = items.filter((s) => s.payment_intent === paymentIntent);
  const email = text(form.customer_details?.email, 'customer_details[email]');
  if (email !== null) items = items.filter((s) => s.customer_details?.email === email);
  return { body: paginate(store, items, form, '/v1/checkout/sessions') };
};

function expire(session: Stripe.Checkout.Session): void {
  if (session.status !== 'open') {
    throw invalid(`This Checkout Session is not in an expirable state: only Checkout Sessions with status 'open' can be expired (this one is '${session.status}').`);
  }
  session.status = 'expired';
  session.url = null;
}

export const expireSessionRoute: Handler = (store, [id], form) => {
  checkParams(form, RETRIEVE_PARAMS);
  const session = must(store.sessions, id!, 'checkout.session');
  expire(session);
  return { body: expanded(store, session, expandPaths(form)) };
};

// ---- test controls ----

export function storedSession(store: Store, id: string): Stripe.Checkout.Session {
  const session = store.sessions.get(id);
  if (!session) throw new Error(`stripe fake: no Checkout Session ${id}`);
  return session;
}

export function paySession(store: Store, id: string, options: PaySessionOptions = {}): Stripe.Checkout.Session {
  const session = storedSession(store, id);
  if (session.status !== 'open') throw new Error(`stripe fake: session ${id} is ${session.status}, only an open session can be paid`);
  const extras = store.sessionExtras.get(id)!;
  const save = options.savePaymentMethod ?? extras.setupFutureUsage !== null;
  if (save && extras.setupFutureUsage === null) {
    throw new Error('stripe fake: Checkout keeps a card only when the session was created with payment_intent_data[setup_future_usage]');
  }
  let customerId = typeof session.customer === 'string' ? session.customer : null;
  const email = session.customer_email ?? (customerId ? store.customers.get(customerId)!.email : null) ?? options.email ?? 'buyer@example.com';
  if (!customerId && session.customer_creation === 'always') customerId = createCustomer(store, { email }).id;
  if (save && !customerId) throw new Error('stripe fake: a card is kept on a Customer; create the session with `customer` (or customer_creation=always)');
  const paymentMethod = createCardPaymentMethod(store, options.card, save ? customerId : null);
  const paymentIntent = createPaymentIntent(store, {
    amount: session.amount_total!, currency: session.currency!, customer: customerId, metadata: { ...extras.paymentIntentMetadata },
    paymentMethod: paymentMethod.id,
    setupFutureUsage: extras.setupFutureUsage,
  });
  succeed(store, paymentIntent, paymentMethod);
  Object.assign(session, {
    status: 'complete', payment_status: 'paid', payment_intent: paymentIntent.id, customer: customerId, customer_details: customerDetails(email),
    url: null,
  });
  if (session.automatic_tax.enabled) session.automatic_tax.status = 'complete';
  return clone(session);
}

export function completeSessionUnpaid(store: Store, id: string): Stripe.Checkout.Session {
  const session = storedSession(store, id);
  if (session.status !== 'open') throw new Error(`stripe fake: session ${id} is ${session.status}, only an open session can be completed`);
  const extras = store.sessionExtras.get(id)!;
  const customerId = typeof session.customer === 'string' ? session.customer : null;
  const email = session.customer_email ?? (customerId ? store.customers.get(customerId)!.email : null) ?? 'buyer@example.com';
  const paymentMethod = createCardPaymentMethod(store, undefined, null);
  const paymentIntent = createPaymentIntent(store, { amount: session.amount_total!, currency: session.currency!, customer: customerId, metadata: { ...extras.paymentIntentMetadata }, paymentMethod: paymentMethod.id, setupFutureUsage: extras.setupFutureUsage });
  createCharge(store, paymentIntent, paymentMethod, 'pending');
  paymentIntent.status = 'processing';
  Object.assign(session, { status: 'complete', payment_status: 'unpaid', payment_intent: paymentIntent.id, customer_details: customerDetails(email), url: null });
  return clone(session);
}

function processingIntent(store: Store, id: string): { session: Stripe.Checkout.Session; paymentIntent: Stripe.PaymentIntent; charge: Stripe.Charge } {
  const session = storedSession(store, id);
  const paymentIntent = typeof session.payment_intent === 'string' ? store.paymentIntents.get(session.payment_intent) : undefined;
  if (session.status !== 'complete' || session.payment_status !== 'unpaid' || paymentIntent?.status !== 'processing') {
    throw new Error(`stripe fake: session ${id} is not waiting for an async payment (use completeSessionUnpaid first)`);
  }
  return { session, paymentIntent, charge: store.charges.get(paymentIntent.latest_charge as string)! };
}

export function asyncPaymentSucceeds(store: Store, id: string): Stripe.Checkout.Session {
  const { session, paymentIntent, charge } = processingIntent(store, id);
  Object.assign(charge, { status: 'succeeded', paid: true, captured: true, amount_captured: charge.amount, balance_transaction: randomId('txn_') });
  paymentIntent.status = 'succeeded';
  paymentIntent.amount_received = paymentIntent.amount;
  session.payment_status = 'paid';
  return clone(session);
}

export function asyncPaymentFails(store: Store, id: string): Stripe.Checkout.Session {
  const { session, paymentIntent, charge } = processingIntent(store, id);
  Object.assign(charge, { status: 'failed', failure_code: 'insufficient_funds', failure_message: 'The account has insufficient funds to cover this payment.', receipt_url: null });
  paymentIntent.status = 'requires_payment_method';
  paymentIntent.last_payment_error = { type: 'card_error', code: 'insufficient_funds', message: 'The account has insufficient funds to cover this payment.', charge: charge.id } as Stripe.PaymentIntent.LastPaymentError;
  return clone(session);
}

export function expireSession(store: Store, id: string): Stripe.Checkout.Session {
  const session = storedSession(store, id);
  expire(session);
  return clone(session);
}

export function setSessionAmount(store: Store, id: string, amountSubtotal: number, currency?: string): Stripe.Checkout.Session {
  const session = storedSession(store, id);
  session.amount_subtotal = amountSubtotal;
  session.amount_total = amountSubtotal;
  if (currency !== undefined) session.currency = currency;
  return clone(session);
}
