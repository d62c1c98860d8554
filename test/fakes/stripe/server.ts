// The Stripe fake's HTTP server on 127.0.0.1, which the billing tests point the real SDK at: request log, scripted failures, test controls.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { systemClock, type Clock } from '../../../src/clock.ts';
import { dispute, refund } from './charges.ts';
import { asyncPaymentFails, asyncPaymentSucceeds, completeSessionUnpaid, expireSession, paySession, setSessionAmount, storedSession, type PaySessionOptions } from './checkout-sessions.ts';
import { addCard, type CardDetails } from './customers.ts';
import { createEvent, deliver, signedWebhook, type SignedWebhook } from './events.ts';
import { hosted } from './hosted-pages.ts';
import { decodeForm, type Form } from './params.ts';
import { answer, type ApiResult } from './routes.ts';
import { clone, createStore, get, randomId, type CardOutcome } from './store.ts';

export type { CardDetails, CardOutcome, Form, PaySessionOptions, SignedWebhook };

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

export interface ScriptedError {
  status: number;
  type: 'api_error' | 'invalid_request_error' | 'rate_limit_error' | 'authentication_error' | 'idempotency_error';
  code?: string;
  message?: string;
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

export async function startStripeFake(options: StripeFakeOptions = {}): Promise<StripeFake> {
  const store = createStore(options.clock ?? systemClock);
  const idempotencyKeys = new Map<string, number>();
  const requests: LoggedRequest[] = [];
  const networkFailures: ('before' | 'after')[] = [];
  const scriptedErrors: ScriptedError[] = [];

  function serve(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    const method = req.method ?? 'GET';
    const target = new URL(req.url ?? '/', store.baseUrl);
    if (!target.pathname.startsWith('/v1/')) return hosted(store, method, target.pathname, res);
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
      : answer(store, method, target.pathname, form, rawBody, req.headers.authorization, idempotencyKey);
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
  store.baseUrl = `http://127.0.0.1:${port}`;

  return {
    port,
    url: store.baseUrl,
    requests,
    idempotencyKeys,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    paySession: (id, payOptions) => paySession(store, id, payOptions),
    completeSessionUnpaid: (id) => completeSessionUnpaid(store, id),
    asyncPaymentSucceeds: (id) => asyncPaymentSucceeds(store, id),
    asyncPaymentFails: (id) => asyncPaymentFails(store, id),
    expireSession: (id) => expireSession(store, id),
    setSessionAmount: (id, amountSubtotal, currency) => setSessionAmount(store, id, amountSubtotal, currency),
    addCard: (customerId, details, cardOptions) => addCard(store, customerId, details, cardOptions),
    refund: (chargeId, amount) => refund(store, chargeId, amount),
    dispute: (chargeId, disputeOptions) => dispute(store, chargeId, disputeOptions),
    scriptCard(script) {
      store.card = { outcome: script.outcome, declineCode: script.declineCode ?? 'generic_decline' };
    },
    failNetwork(nextCalls, failOptions = {}) {
      for (let i = 0; i < nextCalls; i++) networkFailures.push(failOptions.afterProcessing ? 'after' : 'before');
    },
    failRequests(nextCalls, error) {
      for (let i = 0; i < nextCalls; i++) scriptedErrors.push(error);
    },
    event: (type, object, eventOptions) => createEvent(store, type, object, eventOptions),
    signedWebhook,
    deliver,
    customer: (id) => clone(get(store.customers, id, 'customer')),
    session: (id) => clone(storedSession(store, id)),
    paymentIntent: (id) => clone(get(store.paymentIntents, id, 'PaymentIntent')),
    charge: (id) => clone(get(store.charges, id, 'charge')),
    paymentIntents: () => [...store.paymentIntents.values()].map(clone),
  };
}
