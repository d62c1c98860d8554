// The fake's in-memory Stripe state, passed to every resource file, and the generic reads over it: ids, lookup, expand, paginate.
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { Clock } from '../../../src/clock.ts';
import { expandPaths, integer, invalid, missing, text, type Form } from './params.ts';

export type CardOutcome = 'succeed' | 'decline' | 'authentication_required';

export interface SessionExtras {
  seq: number;
  lineItems: { name: string; unitAmount: number; quantity: number }[];
  setupFutureUsage: 'on_session' | 'off_session' | null;
  paymentIntentMetadata: Record<string, string>;
}

export interface StoredResponse {
  fingerprint: string;
  status: number;
  text: string;
}

export interface Store {
  clock: Clock;
  /** The server's own address, set once it listens: hosted pages, receipts and error links point at it. */
  baseUrl: string;
  customers: Map<string, Stripe.Customer>;
  sessions: Map<string, Stripe.Checkout.Session>;
  sessionExtras: Map<string, SessionExtras>;
  paymentIntents: Map<string, Stripe.PaymentIntent>;
  charges: Map<string, Stripe.Charge>;
  paymentMethods: Map<string, Stripe.PaymentMethod>;
  refunds: Map<string, Stripe.Refund>;
  disputes: Map<string, Stripe.Dispute>;
  disputeByCharge: Map<string, string>;
  events: Map<string, object>;
  /** Answers kept under their idempotency key. */
  storedResponses: Map<string, StoredResponse>;
  /** What the next confirmed card payment does, as set by `scriptCard`. */
  card: { outcome: CardOutcome; declineCode: string };
  seq: number;
}

export function createStore(clock: Clock): Store {
  return {
    clock,
    baseUrl: '',
    customers: new Map(),
    sessions: new Map(),
    sessionExtras: new Map(),
    paymentIntents: new Map(),
    charges: new Map(),
    paymentMethods: new Map(),
    refunds: new Map(),
    disputes: new Map(),
    disputeByCharge: new Map(),
    events: new Map(),
    storedResponses: new Map(),
    card: { outcome: 'succeed', declineCode: 'generic_decline' },
    seq: 0,
  };
}

export type Handler = (store: Store, params: string[], form: Form) => { status?: number; body: unknown };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomId(prefix: string, length = 24): string {
  let text = prefix;
  for (const byte of randomBytes(length)) text += ALPHABET[byte % ALPHABET.length];
  return text;
}

export const clone = <T>(value: T): T => structuredClone(value);

export const nowSeconds = (store: Store) => Math.floor(store.clock.now() / 1000);

// Every id is looked up here so `expand` works on any field that holds one.
const lookup = (store: Store, id: string): object | undefined =>
  store.customers.get(id) ?? store.sessions.get(id) ?? store.paymentIntents.get(id) ?? store.charges.get(id) ?? store.paymentMethods.get(id) ?? store.refunds.get(id) ?? store.disputes.get(id);

/** For API handlers: a missing id is Stripe's resource_missing error. */
export function must<T>(map: Map<string, T>, id: string, object: string, param = 'id', status = 404): T {
  const found = map.get(id);
  if (!found) throw missing(object, id, param, status);
  return found;
}

/** For test controls: a missing id is a mistake in the test. */
export function get<T>(map: Map<string, T>, id: string, what: string): T {
  const found = map.get(id);
  if (!found) throw new Error(`stripe fake: no ${what} ${id}`);
  return found;
}

function expandInto(store: Store, target: any, path: string[], full: string): void {
  const [head, ...rest] = path;
  if (head === undefined || target === null || typeof target !== 'object') return;
  if (!(head in target)) throw invalid(`This property cannot be expanded (${full}).`, 'expand');
  let value = target[head];
  if (typeof value === 'string') {
    const found = lookup(store, value);
    if (!found) throw invalid(`This property cannot be expanded (${full}).`, 'expand');
    value = target[head] = clone(found);
  }
  if (rest.length > 0) expandInto(store, value, rest, full);
}

export function expanded<T extends object>(store: Store, object: T, paths: string[]): T {
  const copy = clone(object);
  for (const path of paths) expandInto(store, copy, path.split('.'), path);
  return copy;
}

export function paginate<T extends { id: string }>(store: Store, items: T[], form: Form, listUrl: string) {
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
  return { object: 'list', data: page.map((item) => expanded(store, item, itemPaths)), has_more: hasMore, url: listUrl };
}
