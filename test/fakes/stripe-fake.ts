// A hand-written, stateful fake of the Stripe API on 127.0.0.1: the billing tests point the real SDK at it (DESIGN §6).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { systemClock, type Clock } from '../../src/clock.ts';

// Wire values stay strings ("true", "500") exactly as the SDK sent them; `any` keeps test assertions short.
export type Form = Record<string, any>;

export interface LoggedRequest {
  method: string;
  path: string;
  query: Form;
  body: Form;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  /** null when the request was dropped by `failNetwork` before it was processed. */
  status: number | null;
  /** true when the answer came from the idempotency store. */
  replayed: boolean;
  /** true when `failNetwork` destroyed the socket instead of answering. */
  networkFailure: boolean;
}

export type CardOutcome = 'succeed' | 'decline' | 'authentication_required';

export interface CardDetails {
  brand: string;
  last4: string;
  exp_month?: number;
  exp_year?: number;
}

export interface PaySessionOptions {
  /** Defaults to whether the session asked for `payment_intent_data[setup_future_usage]`. */
  savePaymentMethod?: boolean;
  /** Defaults to a Visa ending 4242. */
  card?: CardDetails;
  /** The email typed into Checkout when the session had neither `customer_email` nor a customer. */
  email?: string;
}

export interface ScriptedError {
  status: number;
  type: 'api_error' | 'invalid_request_error' | 'rate_limit_error' | 'authentication_error' | 'idempotency_error';
  code?: string;
  message?: string;
}

export interface SignedWebhook {
  payload: string;
  headers: { 'stripe-signature': string; 'content-type': 'application/json' };
}

export interface StripeFakeOptions {
  /** Source of every `created` (epoch ms, turned into seconds); defaults to the system clock. */
  clock?: Clock;
}

export interface StripeFake {
  port: number;
  url: string;
  requests: LoggedRequest[];
  idempotencyKeys: ReadonlyMap<string, number>;
  close(): Promise<void>;
  paySession(id: string, options?: PaySessionOptions): Stripe.Checkout.Session;
  completeSessionUnpaid(id: string): Stripe.Checkout.Session;
  asyncPaymentSucceeds(id: string): Stripe.Checkout.Session;
  asyncPaymentFails(id: string): Stripe.Checkout.Session;
  expireSession(id: string): Stripe.Checkout.Session;
  setSessionAmount(id: string, amountSubtotal: number, currency?: string): Stripe.Checkout.Session;
  addCard(customerId: string, card?: CardDetails, options?: { setDefault?: boolean }): Stripe.PaymentMethod;
  refund(chargeId: string, amount?: number): { charge: Stripe.Charge; refund: Stripe.Refund };
  dispute(chargeId: string, options?: { status?: Stripe.Dispute.Status; amount?: number; reason?: string }): Stripe.Dispute;
  scriptCard(script: { outcome: CardOutcome; declineCode?: string }): void;
  failNetwork(nextCalls: number, options?: { afterProcessing?: boolean }): void;
  /** The next API calls are answered with this error before anything is processed (a 500, a 429, a 400 invalid_request_error…). */
  failRequests(nextCalls: number, error: ScriptedError): void;
  event(type: Stripe.Event.Type, object: object, options?: { previousAttributes?: Record<string, unknown> }): Stripe.Event;
  signedWebhook(event: Stripe.Event, secret: string, options?: { timestamp?: number }): SignedWebhook;
  deliver(url: string, event: Stripe.Event, secret: string): Promise<Response>;
  customer(id: string): Stripe.Customer;
  session(id: string): Stripe.Checkout.Session;
  paymentIntent(id: string): Stripe.PaymentIntent;
  charge(id: string): Stripe.Charge;
  paymentIntents(): Stripe.PaymentIntent[];
}

// Top-level parameters each endpoint knows, from the SDK's own *Params types: an unknown one is a 400 in
// Stripe too, so a typo in the app fails here instead of being silently ignored.
const PAGINATION = ['limit', 'starting_after', 'ending_before'];
const CUSTOMER_CREATE_PARAMS = ['address', 'balance', 'business_name', 'cash_balance', 'description', 'email', 'expand', 'individual_name', 'invoice_prefix', 'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'payment_method', 'phone', 'preferred_locales', 'shipping', 'source', 'tax', 'tax_exempt', 'tax_id_data', 'test_clock', 'validate'];
const CUSTOMER_UPDATE_PARAMS = ['address', 'balance', 'business_name', 'cash_balance', 'default_source', 'description', 'email', 'expand', 'individual_name', 'invoice_prefix', 'invoice_settings', 'metadata', 'name', 'next_invoice_sequence', 'phone', 'preferred_locales', 'shipping', 'source', 'tax', 'tax_exempt', 'validate'];
const SESSION_CREATE_PARAMS = ['adaptive_pricing', 'after_expiration', 'allow_promotion_codes', 'allowed_payment_method_types', 'automatic_tax', 'billing_address_collection', 'branding_settings', 'cancel_url', 'client_reference_id', 'consent_collection', 'currency', 'custom_fields', 'custom_text', 'customer', 'customer_account', 'customer_creation', 'customer_email', 'customer_update', 'discounts', 'excluded_payment_method_types', 'expand', 'expires_at', 'integration_identifier', 'invoice_creation', 'line_items', 'locale', 'managed_payments', 'metadata', 'mode', 'name_collection', 'optional_items', 'origin_context', 'payment_intent_data', 'payment_method_collection', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'permissions', 'phone_number_collection', 'redirect_on_completion', 'return_url', 'saved_payment_method_options', 'setup_intent_data', 'shipping_address_collection', 'shipping_options', 'submit_type', 'subscription_data', 'success_url', 'tax_id_collection', 'ui_mode', 'wallet_options'];
const SESSION_LIST_PARAMS = ['created', 'customer', 'customer_account', 'customer_details', 'expand', 'payment_intent', 'payment_link', 'status', 'subscription', ...PAGINATION];
const PAYMENT_INTENT_CREATE_PARAMS = ['amount', 'currency', 'allowed_payment_method_types', 'amount_details', 'application_fee_amount', 'automatic_payment_methods', 'capture_method', 'confirm', 'confirmation_method', 'confirmation_token', 'customer', 'customer_account', 'description', 'error_on_requires_action', 'excluded_payment_method_types', 'expand', 'hooks', 'mandate', 'mandate_data', 'metadata', 'off_session', 'on_behalf_of', 'payment_details', 'payment_method', 'payment_method_configuration', 'payment_method_data', 'payment_method_options', 'radar_options', 'receipt_email', 'return_url', 'setup_future_usage', 'shipping', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_data', 'transfer_group', 'use_stripe_sdk'];
const RETRIEVE_PARAMS = ['expand'];

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomId(prefix: string, length = 24): string {
  let text = prefix;
  for (const byte of randomBytes(length)) text += ALPHABET[byte % ALPHABET.length];
  return text;
}

const clone = <T>(value: T): T => structuredClone(value);

/** Decodes Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested objects and arrays of strings. */
export function decodeForm(text: string): Form {
  const root: Form = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    const segments = match ? [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)] : [rawKey];
    if (segments.includes('__proto__')) continue;
    let node: any = root;
    segments.forEach((segment, index) => {
      const key = segment === '' && Array.isArray(node) ? node.length : segment;
      if (index === segments.length - 1) {
        node[key] = value;
        return;
      }
      node[key] ??= /^\d*$/.test(segments[index + 1]!) ? [] : {};
      node = node[key];
    });
  }
  return root;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: Record<string, unknown>,
  ) {
    super(String(error.message));
  }
}

function invalid(message: string, param?: string, code?: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
}

function missing(object: string, id: string, param: string, status = 404): ApiError {
  return new ApiError(status, {
    type: 'invalid_request_error', code: 'resource_missing', doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    message: `No such ${object}: '${id}'`, param,
  });
}

function checkParams(form: Form, allowed: readonly string[]): void {
  for (const key of Object.keys(form)) {
    if (!allowed.includes(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

function text(value: unknown, param: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${JSON.stringify(value)}`, param);
  return value;
}

function integer(value: unknown, param: string): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${String(value)}`, param);
  return Number(value);
}

function boolean(value: unknown, param: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalid(`Invalid boolean: ${String(value)}`, param);
}

function url(value: unknown, param: string): string | null {
  const given = text(value, param);
  if (given === null) return null;
  try {
    new URL(given);
  } catch {
    throw invalid('Not a valid URL', param, 'url_invalid');
  }
  return given;
}

function metadata(value: unknown, param = 'metadata'): Record<string, string> {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('Invalid hash', param);
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw invalid(`Invalid string: ${JSON.stringify(entry)}`, `${param}[${key}]`);
    if (key.length > 40) throw invalid('Metadata keys can have up to 40 characters', `${param}[${key}]`);
    if (entry.length > 500) throw invalid('Metadata values can have up to 500 characters', `${param}[${key}]`);
    if (entry !== '') result[key] = entry;
  }
  if (Object.keys(result).length > 50) throw invalid('Metadata can have up to 50 keys', param);
  return result;
}

function expandPaths(form: Form): string[] {
  const value = form.expand;
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((path, index) => {
    if (typeof path !== 'string') throw invalid('Invalid array', `expand[${index}]`);
    return path;
  });
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface SessionExtras {
  seq: number;
  lineItems: { name: string; unitAmount: number; quantity: number }[];
  setupFutureUsage: 'on_session' | 'off_session' | null;
  paymentIntentMetadata: Record<string, string>;
}

interface StoredResponse {
  fingerprint: string;
  status: number;
  text: string;
}

interface ApiResult {
  status: number;
  text: string;
  replayed: boolean;
}

type Handler = (params: string[], form: Form) => { status?: number; body: unknown };

export async function startStripeFake(options: StripeFakeOptions = {}): Promise<StripeFake> {
  const clock = options.clock ?? systemClock;
  const nowSeconds = () => Math.floor(clock.now() / 1000);
  let baseUrl = '';

  const customers = new Map<string, Stripe.Customer>();
  const sessions = new Map<string, Stripe.Checkout.Session>();
  const sessionExtras = new Map<string, SessionExtras>();
  const paymentIntents = new Map<string, Stripe.PaymentIntent>();
  const charges = new Map<string, Stripe.Charge>();
  const paymentMethods = new Map<string, Stripe.PaymentMethod>();
  const refunds = new Map<string, Stripe.Refund>();
  const disputes = new Map<string, Stripe.Dispute>();
  const disputeByCharge = new Map<string, string>();
  const events = new Map<string, object>();
  const storedResponses = new Map<string, StoredResponse>();
  const idempotencyKeys = new Map<string, number>();
  const requests: LoggedRequest[] = [];
  const networkFailures: ('before' | 'after')[] = [];
  const scriptedErrors: ScriptedError[] = [];
  let card: { outcome: CardOutcome; declineCode: string } = { outcome: 'succeed', declineCode: 'generic_decline' };
  let seq = 0;

  // Every id is looked up here so `expand` works on any field that holds one.
  const lookup = (id: string): object | undefined =>
    customers.get(id) ?? sessions.get(id) ?? paymentIntents.get(id) ?? charges.get(id) ?? paymentMethods.get(id) ?? refunds.get(id) ?? disputes.get(id);

  function must<T>(map: Map<string, T>, id: string, object: string, param = 'id', status = 404): T {
    const found = map.get(id);
    if (!found) throw missing(object, id, param, status);
    return found;
  }

  function expandInto(target: any, path: string[], full: string): void {
    const [head, ...rest] = path;
    if (head === undefined || target === null || typeof target !== 'object') return;
    if (!(head in target)) throw invalid(`This property cannot be expanded (${full}).`, 'expand');
    let value = target[head];
    if (typeof value === 'string') {
      const found = lookup(value);
      if (!found) throw invalid(`This property cannot be expanded (${full}).`, 'expand');
      value = target[head] = clone(found);
    }
    if (rest.length > 0) expandInto(value, rest, full);
  }

  function expanded<T extends object>(object: T, paths: string[]): T {
    const copy = clone(object);
    for (const path of paths) expandInto(copy, path.split('.'), path);
    return copy;
  }

  function paginate<T extends { id: string }>(items: T[], form: Form, listUrl: string) {
    const limit = form.limit === undefined ? 10 : integer(form.limit, 'limit');
    if (limit < 1 || limit > 100) throw invalid('This value must be greater than or equal to 1 and less than or equal to 100.', 'limit');
    let page: T[];
    let hasMore: boolean;
    const position = (param: string) => {
      const id = text(form[param], param)!;
      const index = items.findIndex((item) => item.id === id);
      if (index < 0) throw invalid(`No such object: '${id}'`, param, 'resource_missing');
      return index;
    };
    if (form.starting_after !== undefined) {
      const start = position('starting_after') + 1;
      page = items.slice(start, start + limit);
      hasMore = start + limit < items.length;
    } else if (form.ending_before !== undefined) {
      const end = position('ending_before');
      const start = Math.max(0, end - limit);
      page = items.slice(start, end);
      hasMore = start > 0;
    } else {
      page = items.slice(0, limit);
      hasMore = limit < items.length;
    }
    const itemPaths = expandPaths(form).map((path) => {
      if (!path.startsWith('data.')) throw invalid(`This property cannot be expanded (${path}).`, 'expand');
      return path.slice('data.'.length);
    });
    return { object: 'list', data: page.map((item) => expanded(item, itemPaths)), has_more: hasMore, url: listUrl };
  }

  // ---- objects ----

  function createCustomer(fields: { email: string | null; name?: string | null; description?: string | null; metadata?: Record<string, string> }): Stripe.Customer {
    const customer: Stripe.Customer = {
      id: randomId('cus_', 14), object: 'customer', address: null, balance: 0, created: nowSeconds(), currency: null, default_source: null,
      delinquent: false, description: fields.description ?? null, discount: null, email: fields.email, invoice_prefix: randomId('', 8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null }, livemode: false,
      metadata: fields.metadata ?? {}, name: fields.name ?? null, next_invoice_sequence: 1, phone: null, preferred_locales: [],
      shipping: null, tax_exempt: 'none', test_clock: null,
    };
    customers.set(customer.id, customer);
    return customer;
  }

  function createCardPaymentMethod(details: CardDetails | undefined, customerId: string | null): Stripe.PaymentMethod {
    const brand = details?.brand ?? 'visa';
    const paymentMethod: Stripe.PaymentMethod = {
      id: randomId('pm_'), object: 'payment_method', allow_redisplay: 'unspecified',
      billing_details: { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null },
      card: {
        brand, checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: 'US', display_brand: brand, exp_month: details?.exp_month ?? 12,
        exp_year: details?.exp_year ?? new Date(clock.now()).getUTCFullYear() + 3, fingerprint: randomId('', 16), funding: 'credit',
        generated_from: null, last4: details?.last4 ?? '4242', networks: { available: [brand], preferred: null }, regulated_status: 'unregulated',
        three_d_secure_usage: { supported: true }, wallet: null,
      },
      created: nowSeconds(), customer: customerId, customer_account: null, livemode: false, metadata: {}, type: 'card',
    };
    paymentMethods.set(paymentMethod.id, paymentMethod);
    return paymentMethod;
  }

  function createPaymentIntent(fields: {
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
      confirmation_method: 'automatic', created: nowSeconds(), currency: fields.currency, customer: fields.customer, customer_account: null,
      description: fields.description ?? null, excluded_payment_method_types: null, last_payment_error: null, latest_charge: null, livemode: false,
      managed_payments: null, metadata: fields.metadata, next_action: null, on_behalf_of: null, payment_method: fields.paymentMethod,
      payment_method_configuration_details: null,
      payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_record: null, processing: null, receipt_email: null, review: null, setup_future_usage: fields.setupFutureUsage, shipping: null,
      source: null, statement_descriptor: null, statement_descriptor_suffix: null,
      status: fields.paymentMethod ? 'requires_confirmation' : 'requires_payment_method', transfer_data: null, transfer_group: null,
    };
    paymentIntents.set(id, paymentIntent);
    return paymentIntent;
  }

  function createCharge(
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
      billing_details: paymentMethod.billing_details, calculated_statement_descriptor: 'TOKENTAB', captured: paid, created: nowSeconds(),
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
      receipt_email: null, receipt_number: null, receipt_url: paid || status === 'pending' ? `${baseUrl}/receipts/${id}` : null,
      refunded: false, review: null, shipping: null, source: null, source_transfer: null, statement_descriptor: null,
      statement_descriptor_suffix: null, status, transfer_data: null, transfer_group: null,
    };
    charges.set(id, charge);
    paymentIntent.latest_charge = id;
    return charge;
  }

  function succeed(paymentIntent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod): void {
    createCharge(paymentIntent, paymentMethod, 'succeeded');
    paymentIntent.status = 'succeeded';
    paymentIntent.amount_received = paymentIntent.amount;
    paymentIntent.payment_method = paymentMethod.id;
  }

  /** A failed attempt leaves the intent `requires_payment_method`; the 402 body carries both objects. */
  function fail(paymentIntent: Stripe.PaymentIntent, paymentMethod: Stripe.PaymentMethod, code: string, declineCode: string, message: string) {
    const charge = createCharge(paymentIntent, paymentMethod, 'failed', { code, declineCode, message });
    const error = {
      type: 'card_error' as const, charge: charge.id, code, decline_code: declineCode,
      doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`,
      message, payment_method: clone(paymentMethod),
    };
    paymentIntent.status = 'requires_payment_method';
    paymentIntent.payment_method = null;
    paymentIntent.last_payment_error = error as Stripe.PaymentIntent.LastPaymentError;
    return { ...error, payment_intent: clone(paymentIntent), request_log_url: `${baseUrl}/logs/${randomId('req_', 14)}` };
  }

  function newSession(fields: Omit<SessionExtras, 'seq'> & { base: Partial<Stripe.Checkout.Session> & Pick<Stripe.Checkout.Session, 'amount_subtotal' | 'currency'> }): Stripe.Checkout.Session {
    const id = randomId('cs_test_', 58);
    const created = nowSeconds();
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
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 }, ui_mode: 'hosted_page', url: `${baseUrl}/pay/${id}`,
      wallet_options: null, ...fields.base,
    };
    sessions.set(id, session);
    sessionExtras.set(id, { seq: ++seq, lineItems: fields.lineItems, setupFutureUsage: fields.setupFutureUsage, paymentIntentMetadata: fields.paymentIntentMetadata });
    return session;
  }

  function customerDetails(email: string | null): Stripe.Checkout.Session.CustomerDetails {
    return { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: [] };
  }

  // ---- API handlers ----

  const createCustomerRoute: Handler = (_params, form) => {
    checkParams(form, CUSTOMER_CREATE_PARAMS);
    return { body: createCustomer({ email: text(form.email, 'email'), name: text(form.name, 'name'), description: text(form.description, 'description'), metadata: metadata(form.metadata) }) };
  };

  const updateCustomerRoute: Handler = ([id], form) => {
    checkParams(form, CUSTOMER_UPDATE_PARAMS);
    const customer = must(customers, id!, 'customer');
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
        const paymentMethod = must(paymentMethods, paymentMethodId, 'PaymentMethod', 'invoice_settings[default_payment_method]', 400);
        if (paymentMethod.customer !== customer.id) throw invalid(`The customer does not have a payment method with the ID ${paymentMethodId}. The payment method must be attached to the customer.`, 'invoice_settings[default_payment_method]', 'resource_missing');
      }
      customer.invoice_settings.default_payment_method = paymentMethodId || null;
    }
    return { body: expanded(customer, expandPaths(form)) };
  };

  const retrieveCustomerRoute: Handler = ([id], form) => {
    checkParams(form, RETRIEVE_PARAMS);
    return { body: expanded(must(customers, id!, 'customer'), expandPaths(form)) };
  };

  const customerPaymentMethodsRoute: Handler = ([id], form) => {
    checkParams(form, ['allow_redisplay', 'expand', 'type', ...PAGINATION]);
    must(customers, id!, 'customer');
    const type = text(form.type, 'type');
    const attached = [...paymentMethods.values()].filter((pm) => pm.customer === id && (type === null || pm.type === type)).reverse();
    return { body: paginate(attached, form, `/v1/customers/${id}/payment_methods`) };
  };

  const customerPaymentMethodRoute: Handler = ([customerId, id], form) => {
    checkParams(form, RETRIEVE_PARAMS);
    must(customers, customerId!, 'customer');
    const paymentMethod = paymentMethods.get(id!);
    if (!paymentMethod || paymentMethod.customer !== customerId) throw missing('PaymentMethod', id!, 'payment_method');
    return { body: expanded(paymentMethod, expandPaths(form)) };
  };

  const retrieveRoute =
    <T extends object>(map: Map<string, T>, object: string): Handler =>
    ([id], form) => {
      checkParams(form, RETRIEVE_PARAMS);
      return { body: expanded(must(map, id!, object), expandPaths(form)) };
    };

  const createSessionRoute: Handler = (_params, form) => {
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
    if (customerId !== null) must(customers, customerId, 'customer', 'customer', 400);
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
    const created = nowSeconds();
    let expiresAt = created + 24 * 3600;
    if (form.expires_at !== undefined) {
      expiresAt = integer(form.expires_at, 'expires_at');
      if (expiresAt < created + 30 * 60 || expiresAt > created + 24 * 3600) throw invalid('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', 'expires_at');
    }
    const amount = lineItems.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);
    const session = newSession({
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
    return { body: expanded(session, expandPaths(form)) };
  };

  const listSessionsRoute: Handler = (_params, form) => {
    checkParams(form, SESSION_LIST_PARAMS);
    let items = [...sessions.values()].sort((a, b) => b.created - a.created || sessionExtras.get(b.id)!.seq - sessionExtras.get(a.id)!.seq);
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
    return { body: paginate(items, form, '/v1/checkout/sessions') };
  };

  function expire(session: Stripe.Checkout.Session): void {
    if (session.status !== 'open') {
      throw invalid(`This Checkout Session is not in an expirable state: only Checkout Sessions with status 'open' can be expired (this one is '${session.status}').`);
    }
    session.status = 'expired';
    session.url = null;
  }

  const expireSessionRoute: Handler = ([id], form) => {
    checkParams(form, RETRIEVE_PARAMS);
    const session = must(sessions, id!, 'checkout.session');
    expire(session);
    return { body: expanded(session, expandPaths(form)) };
  };

  const createPaymentIntentRoute: Handler = (_params, form) => {
    checkParams(form, PAYMENT_INTENT_CREATE_PARAMS);
    if (form.amount === undefined) throw invalid('Missing required param: amount.', 'amount', 'parameter_missing');
    const amount = integer(form.amount, 'amount');
    const currency = text(form.currency, 'currency')?.toLowerCase();
    if (!currency) throw invalid('Missing required param: currency.', 'currency', 'parameter_missing');
    if (amount < 1 || (currency === 'usd' && amount < 50)) throw invalid('Amount must be at least $0.50 usd', 'amount', 'amount_too_small');
    const customerId = text(form.customer, 'customer');
    if (customerId !== null) must(customers, customerId, 'customer', 'customer', 400);
    const paymentMethodId = text(form.payment_method, 'payment_method');
    const paymentMethod = paymentMethodId === null ? null : must(paymentMethods, paymentMethodId, 'PaymentMethod', 'payment_method', 400);
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
    const paymentIntent = createPaymentIntent({
      amount, currency, customer: customerId, metadata: metadata(form.metadata), paymentMethod: paymentMethodId, setupFutureUsage,
      description: text(form.description, 'description'),
    });
    if (!confirm || !paymentMethod) return { body: expanded(paymentIntent, expandPaths(form)) };
    if (card.outcome === 'decline') {
      return { status: 402, body: { error: fail(paymentIntent, paymentMethod, 'card_declined', card.declineCode, 'Your card was declined.') } };
    }
    if (card.outcome === 'authentication_required') {
      if (offSession) {
        return { status: 402, body: { error: fail(paymentIntent, paymentMethod, 'authentication_required', 'authentication_required', 'Your card was declined. This transaction requires authentication.') } };
      }
      // On session the customer could still authenticate, so Stripe answers 200 and asks for an action.
      paymentIntent.status = 'requires_action';
      paymentIntent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `${baseUrl}/3ds/${paymentIntent.id}` } };
      return { body: expanded(paymentIntent, expandPaths(form)) };
    }
    succeed(paymentIntent, paymentMethod);
    return { body: expanded(paymentIntent, expandPaths(form)) };
  };

  const retrieveEventRoute: Handler = ([id], form) => {
    checkParams(form, RETRIEVE_PARAMS);
    return { body: must(events, id!, 'event') };
  };

  const routes: [string, RegExp, Handler][] = [
    ['POST', /^\/v1\/customers$/, createCustomerRoute],
    ['GET', /^\/v1\/customers\/([^/]+)$/, retrieveCustomerRoute],
    ['POST', /^\/v1\/customers\/([^/]+)$/, updateCustomerRoute],
    ['GET', /^\/v1\/customers\/([^/]+)\/payment_methods$/, customerPaymentMethodsRoute],
    ['GET', /^\/v1\/customers\/([^/]+)\/payment_methods\/([^/]+)$/, customerPaymentMethodRoute],
    ['GET', /^\/v1\/payment_methods\/([^/]+)$/, retrieveRoute(paymentMethods, 'PaymentMethod')],
    ['POST', /^\/v1\/checkout\/sessions$/, createSessionRoute],
    ['GET', /^\/v1\/checkout\/sessions$/, listSessionsRoute],
    ['GET', /^\/v1\/checkout\/sessions\/([^/]+)$/, retrieveRoute(sessions, 'checkout.session')],
    ['POST', /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, expireSessionRoute],
    ['POST', /^\/v1\/payment_intents$/, createPaymentIntentRoute],
    ['GET', /^\/v1\/payment_intents\/([^/]+)$/, retrieveRoute(paymentIntents, 'payment_intent')],
    ['GET', /^\/v1\/charges\/([^/]+)$/, retrieveRoute(charges, 'charge')],
    ['GET', /^\/v1\/refunds\/([^/]+)$/, retrieveRoute(refunds, 'refund')],
    ['GET', /^\/v1\/disputes\/([^/]+)$/, retrieveRoute(disputes, 'dispute')],
    ['GET', /^\/v1\/events\/([^/]+)$/, retrieveEventRoute],
  ];

  function route(method: string, path: string, form: Form): { status: number; body: unknown } {
    for (const [routeMethod, pattern, handler] of routes) {
      const match = routeMethod === method ? pattern.exec(path) : null;
      if (!match) continue;
      try {
        const result = handler(match.slice(1).map(decodeURIComponent), form);
        return { status: result.status ?? 200, body: result.body };
      } catch (error) {
        if (error instanceof ApiError) return { status: error.status, body: { error: error.error } };
        return { status: 500, body: { error: { type: 'api_error', message: `fake: ${(error as Error).stack}` } } };
      }
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } } };
  }

  function answer(method: string, path: string, form: Form, rawBody: string, authorization: string | undefined, idempotencyKey: string | null): ApiResult {
    const json = (status: number, body: unknown): ApiResult => ({ status, text: JSON.stringify(body, null, 2), replayed: false });
    if (!authorization) {
      return json(401, { error: { type: 'invalid_request_error', message: 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').' } });
    }
    if (!/^Bearer (sk|rk)_\S+$/.test(authorization)) {
      return json(401, { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${authorization.replace(/^Bearer /, '').slice(0, 8)}****` } });
    }
    if (method !== 'POST' || idempotencyKey === null) {
      const result = route(method, path, form);
      return json(result.status, result.body);
    }
    const fingerprint = `${method} ${path}\n${rawBody}`;
    const stored = storedResponses.get(idempotencyKey);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return json(400, {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          },
        });
      }
      return { status: stored.status, text: stored.text, replayed: true };
    }
    const routed = route(method, path, form);
    const result = json(routed.status, routed.body);
    // Stripe keeps a result only once the endpoint started executing: validation errors can be retried with the key.
    if (result.status < 400 || result.status === 402) storedResponses.set(idempotencyKey, { fingerprint, status: result.status, text: result.text });
    return result;
  }

  // ---- the hosted pages that `session.url` and `receipt_url` point at ----

  function page(res: ServerResponse, status: number, title: string, body: string): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
  }

  function redirect(res: ServerResponse, location: string): void {
    res.writeHead(303, { location });
    res.end();
  }

  const money = (amount: number, currency: string) => `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;

  function hosted(method: string, path: string, res: ServerResponse): void {
    const pay = /^\/pay\/([^/]+)(\/cancel)?$/.exec(path);
    const session = pay ? sessions.get(decodeURIComponent(pay[1]!)) : undefined;
    if (pay && session) {
      const cancel = pay[2] !== undefined;
      if (method === 'POST' && cancel) return redirect(res, session.cancel_url ?? `${baseUrl}/pay/${session.id}`);
      if (method === 'POST' && session.status === 'open') {
        paySession(session.id);
        return redirect(res, (session.success_url ?? `${baseUrl}/pay/${session.id}`).replace('{CHECKOUT_SESSION_ID}', session.id));
      }
      const items = sessionExtras.get(session.id)!.lineItems.map((item) => `<li>${escapeHtml(item.name)} × ${item.quantity}: ${money(item.unitAmount * item.quantity, session.currency!)}</li>`);
      const actions =
        session.status === 'open'
          ? `<form method="post" action="/pay/${session.id}"><button>Pay ${money(session.amount_total!, session.currency!)}</button></form><form method="post" action="/pay/${session.id}/cancel"><button>Cancel</button></form>`
          : `<p>This session is ${escapeHtml(session.status ?? 'unknown')}.</p>`;
      return page(res, 200, 'Fake Stripe Checkout', `<ul>${items.join('')}</ul>${actions}`);
    }
    const receipt = /^\/receipts\/([^/]+)$/.exec(path);
    const charge = receipt ? charges.get(decodeURIComponent(receipt[1]!)) : undefined;
    if (method === 'GET' && charge) {
      const refunded = charge.amount_refunded > 0 ? `<p>Refunded ${money(charge.amount_refunded, charge.currency)}</p>` : '';
      return page(res, 200, `Receipt ${charge.id}`, `<p>Paid ${money(charge.amount, charge.currency)}</p>${refunded}`);
    }
    page(res, 404, 'Not found', '');
  }

  // ---- the server ----

  function serve(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    const method = req.method ?? 'GET';
    const target = new URL(req.url ?? '/', baseUrl);
    if (!target.pathname.startsWith('/v1/')) return hosted(method, target.pathname, res);
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const idempotencyKey = header('idempotency-key');
    const entry: LoggedRequest = {
      method, path: target.pathname, query: decodeForm(target.search.slice(1)), body: decodeForm(rawBody), idempotencyKey,
      stripeVersion: header('stripe-version'), status: null, replayed: false, networkFailure: false,
    };
    requests.push(entry);
    if (method === 'POST' && idempotencyKey !== null) idempotencyKeys.set(idempotencyKey, (idempotencyKeys.get(idempotencyKey) ?? 0) + 1);
    const failure = networkFailures.shift();
    if (failure === 'before') {
      entry.networkFailure = true;
      req.socket.destroy();
      return;
    }
    const form = method === 'GET' || method === 'DELETE' ? entry.query : entry.body;
    const scripted = scriptedErrors.shift();
    // Answered before the endpoint runs, so nothing is stored under the key: a retry with it runs for real.
    const result: ApiResult = scripted
      ? { status: scripted.status, text: JSON.stringify({ error: { type: scripted.type, message: scripted.message ?? `fake: scripted ${scripted.status}`, ...(scripted.code ? { code: scripted.code } : {}) } }, null, 2), replayed: false }
      : answer(method, target.pathname, form, rawBody, req.headers.authorization, idempotencyKey);
    entry.status = result.status;
    entry.replayed = result.replayed;
    if (failure === 'after') {
      entry.networkFailure = true;
      req.socket.destroy();
      return;
    }
    res.writeHead(result.status, {
      'content-type': 'application/json',
      'request-id': randomId('req_', 14),
      'stripe-version': entry.stripeVersion ?? Stripe.API_VERSION,
      ...(idempotencyKey !== null && method === 'POST' ? { 'idempotency-key': idempotencyKey } : {}),
      ...(result.replayed ? { 'idempotent-replayed': 'true' } : {}),
    });
    res.end(result.text);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        serve(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        // A throw here would take the whole test process down; a 500 shows the misuse in the failing test instead.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`stripe fake: ${(error as Error).stack}`);
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  // ---- test controls ----

  function storedSession(id: string): Stripe.Checkout.Session {
    const session = sessions.get(id);
    if (!session) throw new Error(`stripe fake: no Checkout Session ${id}`);
    return session;
  }

  function get<T>(map: Map<string, T>, id: string, what: string): T {
    const found = map.get(id);
    if (!found) throw new Error(`stripe fake: no ${what} ${id}`);
    return found;
  }

  function paySession(id: string, options: PaySessionOptions = {}): Stripe.Checkout.Session {
    const session = storedSession(id);
    if (session.status !== 'open') throw new Error(`stripe fake: session ${id} is ${session.status}, only an open session can be paid`);
    const extras = sessionExtras.get(id)!;
    const save = options.savePaymentMethod ?? extras.setupFutureUsage !== null;
    if (save && extras.setupFutureUsage === null) {
      throw new Error('stripe fake: Checkout keeps a card only when the session was created with payment_intent_data[setup_future_usage]');
    }
    let customerId = typeof session.customer === 'string' ? session.customer : null;
    const email = session.customer_email ?? (customerId ? customers.get(customerId)!.email : null) ?? options.email ?? 'buyer@example.com';
    if (!customerId && session.customer_creation === 'always') customerId = createCustomer({ email }).id;
    if (save && !customerId) throw new Error('stripe fake: a card is kept on a Customer; create the session with `customer` (or customer_creation=always)');
    const paymentMethod = createCardPaymentMethod(options.card, save ? customerId : null);
    const paymentIntent = createPaymentIntent({
      amount: session.amount_total!, currency: session.currency!, customer: customerId, metadata: { ...extras.paymentIntentMetadata },
      paymentMethod: paymentMethod.id,
      setupFutureUsage: extras.setupFutureUsage,
    });
    succeed(paymentIntent, paymentMethod);
    Object.assign(session, {
      status: 'complete', payment_status: 'paid', payment_intent: paymentIntent.id, customer: customerId, customer_details: customerDetails(email),
      url: null,
    });
    if (session.automatic_tax.enabled) session.automatic_tax.status = 'complete';
    return clone(session);
  }

  function completeSessionUnpaid(id: string): Stripe.Checkout.Session {
    const session = storedSession(id);
    if (session.status !== 'open') throw new Error(`stripe fake: session ${id} is ${session.status}, only an open session can be completed`);
    const extras = sessionExtras.get(id)!;
    const customerId = typeof session.customer === 'string' ? session.customer : null;
    const email = session.customer_email ?? (customerId ? customers.get(customerId)!.email : null) ?? 'buyer@example.com';
    const paymentMethod = createCardPaymentMethod(undefined, null);
    const paymentIntent = createPaymentIntent({ amount: session.amount_total!, currency: session.currency!, customer: customerId, metadata: { ...extras.paymentIntentMetadata }, paymentMethod: paymentMethod.id, setupFutureUsage: extras.setupFutureUsage });
    createCharge(paymentIntent, paymentMethod, 'pending');
    paymentIntent.status = 'processing';
    Object.assign(session, { status: 'complete', payment_status: 'unpaid', payment_intent: paymentIntent.id, customer_details: customerDetails(email), url: null });
    return clone(session);
  }

  function processingIntent(id: string): { session: Stripe.Checkout.Session; paymentIntent: Stripe.PaymentIntent; charge: Stripe.Charge } {
    const session = storedSession(id);
    const paymentIntent = typeof session.payment_intent === 'string' ? paymentIntents.get(session.payment_intent) : undefined;
    if (session.status !== 'complete' || session.payment_status !== 'unpaid' || paymentIntent?.status !== 'processing') {
      throw new Error(`stripe fake: session ${id} is not waiting for an async payment (use completeSessionUnpaid first)`);
    }
    return { session, paymentIntent, charge: charges.get(paymentIntent.latest_charge as string)! };
  }

  function asyncPaymentSucceeds(id: string): Stripe.Checkout.Session {
    const { session, paymentIntent, charge } = processingIntent(id);
    Object.assign(charge, { status: 'succeeded', paid: true, captured: true, amount_captured: charge.amount, balance_transaction: randomId('txn_') });
    paymentIntent.status = 'succeeded';
    paymentIntent.amount_received = paymentIntent.amount;
    session.payment_status = 'paid';
    return clone(session);
  }

  function asyncPaymentFails(id: string): Stripe.Checkout.Session {
    const { session, paymentIntent, charge } = processingIntent(id);
    Object.assign(charge, { status: 'failed', failure_code: 'insufficient_funds', failure_message: 'The account has insufficient funds to cover this payment.', receipt_url: null });
    paymentIntent.status = 'requires_payment_method';
    paymentIntent.last_payment_error = { type: 'card_error', code: 'insufficient_funds', message: 'The account has insufficient funds to cover this payment.', charge: charge.id } as Stripe.PaymentIntent.LastPaymentError;
    return clone(session);
  }

  function refund(chargeId: string, amount?: number): { charge: Stripe.Charge; refund: Stripe.Refund } {
    const charge = get(charges, chargeId, 'charge');
    const rest = charge.amount - charge.amount_refunded;
    const value = amount ?? rest;
    if (charge.status !== 'succeeded') throw new Error(`stripe fake: charge ${chargeId} is ${charge.status}; only a succeeded charge can be refunded`);
    if (!Number.isInteger(value) || value <= 0 || value > rest) throw new Error(`stripe fake: refund of ${value} on ${chargeId} with ${rest} left to refund`);
    const created: Stripe.Refund = {
      id: randomId('re_'), object: 'refund', amount: value, balance_transaction: randomId('txn_'), charge: charge.id, created: nowSeconds(),
      currency: charge.currency, customer: charge.customer, customer_account: null,
      destination_details: { type: 'card', card: { reference: randomId('', 12), reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' } },
      metadata: {}, payment_intent: charge.payment_intent, payment_method: charge.payment_method, reason: null, receipt_number: null,
      source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
    };
    refunds.set(created.id, created);
    charge.amount_refunded += value;
    charge.refunded = charge.amount_refunded === charge.amount;
    return { charge: clone(charge), refund: clone(created) };
  }

  function dispute(chargeId: string, options: { status?: Stripe.Dispute.Status; amount?: number; reason?: string } = {}): Stripe.Dispute {
    const charge = get(charges, chargeId, 'charge');
    const existing = disputeByCharge.get(chargeId);
    // A dispute keeps its id from needs_response to won or lost; calling again moves the same one along.
    if (existing) {
      const found = disputes.get(existing)!;
      if (options.status) found.status = options.status;
      if (options.amount !== undefined) found.amount = options.amount;
      if (options.reason) found.reason = options.reason;
      return clone(found);
    }
    const created = nowSeconds();
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
    disputes.set(made.id, made);
    disputeByCharge.set(chargeId, made.id);
    charge.disputed = true;
    return clone(made);
  }

  function signedWebhook(event: Stripe.Event, secret: string, signOptions: { timestamp?: number } = {}): SignedWebhook {
    // Stripe sends pretty-printed JSON: an app that re-serialises the parsed body fails the signature, as it would live.
    const payload = JSON.stringify(event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(signOptions.timestamp === undefined ? {} : { timestamp: signOptions.timestamp }) });
    return { payload, headers: { 'stripe-signature': signature, 'content-type': 'application/json' } };
  }

  return {
    port,
    url: baseUrl,
    requests,
    idempotencyKeys,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    paySession,
    completeSessionUnpaid,
    asyncPaymentSucceeds,
    asyncPaymentFails,
    expireSession(id) {
      const session = storedSession(id);
      expire(session);
      return clone(session);
    },
    setSessionAmount(id, amountSubtotal, currency) {
      const session = storedSession(id);
      session.amount_subtotal = amountSubtotal;
      session.amount_total = amountSubtotal;
      if (currency !== undefined) session.currency = currency;
      return clone(session);
    },
    addCard(customerId, details, cardOptions = {}) {
      const customer = get(customers, customerId, 'customer');
      const paymentMethod = createCardPaymentMethod(details, customerId);
      if (cardOptions.setDefault) customer.invoice_settings.default_payment_method = paymentMethod.id;
      return clone(paymentMethod);
    },
    refund,
    dispute,
    scriptCard(script) {
      card = { outcome: script.outcome, declineCode: script.declineCode ?? 'generic_decline' };
    },
    failNetwork(nextCalls, failOptions = {}) {
      for (let i = 0; i < nextCalls; i++) networkFailures.push(failOptions.afterProcessing ? 'after' : 'before');
    },
    failRequests(nextCalls, error) {
      for (let i = 0; i < nextCalls; i++) scriptedErrors.push(error);
    },
    event(type, object, eventOptions = {}) {
      const event = {
        id: randomId('evt_'), object: 'event', api_version: Stripe.API_VERSION, created: nowSeconds(),
        data: { object: clone(object), ...(eventOptions.previousAttributes ? { previous_attributes: clone(eventOptions.previousAttributes) } : {}) },
        livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type,
      };
      events.set(event.id, event);
      return clone(event) as unknown as Stripe.Event;
    },
    signedWebhook,
    async deliver(target, event, secret) {
      const signed = signedWebhook(event, secret);
      return fetch(target, { method: 'POST', headers: signed.headers, body: signed.payload, redirect: 'manual' });
    },
    customer: (id) => clone(get(customers, id, 'customer')),
    session: (id) => clone(storedSession(id)),
    paymentIntent: (id) => clone(get(paymentIntents, id, 'PaymentIntent')),
    charge: (id) => clone(get(charges, id, 'charge')),
    paymentIntents: () => [...paymentIntents.values()].map(clone),
  };
}
