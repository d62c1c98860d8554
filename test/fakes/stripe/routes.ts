// The /v1 API: which handler answers which path, the API-key check, and idempotency keys (a replay, or a 400 for other parameters).
import { createSessionRoute, expireSessionRoute, listSessionsRoute } from './checkout-sessions.ts';
import { createCustomerRoute, customerPaymentMethodRoute, detachPaymentMethodRoute, customerPaymentMethodsRoute, retrieveCustomerRoute, updateCustomerRoute } from './customers.ts';
import { retrieveEventRoute } from './events.ts';
import { ApiError, checkParams, expandPaths, RETRIEVE_PARAMS, type Form } from './params.ts';
import { createPaymentIntentRoute } from './payment-intents.ts';
import { expanded, must, type Handler, type Store } from './store.ts';

export interface ApiResult {
  status: number;
  text: string;
  replayed: boolean;
}

const retrieveRoute =
  <T extends object>(map: (store: Store) => Map<string, T>, object: string): Handler =>
  (store, [id], form) => {
    checkParams(form, RETRIEVE_PARAMS);
    return { body: expanded(store, must(map(store), id!, object), expandPaths(form)) };
  };

const routes: [string, RegExp, Handler][] = [
  ['POST', /^\/v1\/customers$/, createCustomerRoute],
  ['GET', /^\/v1\/customers\/([^/]+)$/, retrieveCustomerRoute],
  ['POST', /^\/v1\/customers\/([^/]+)$/, updateCustomerRoute],
  ['GET', /^\/v1\/customers\/([^/]+)\/payment_methods$/, customerPaymentMethodsRoute],
  ['GET', /^\/v1\/customers\/([^/]+)\/payment_methods\/([^/]+)$/, customerPaymentMethodRoute],
  ['GET', /^\/v1\/payment_methods\/([^/]+)$/, retrieveRoute((store) => store.paymentMethods, 'PaymentMethod')],
  ['POST', /^\/v1\/payment_methods\/([^/]+)\/detach$/, detachPaymentMethodRoute],
  ['POST', /^\/v1\/checkout\/sessions$/, createSessionRoute],
  ['GET', /^\/v1\/checkout\/sessions$/, listSessionsRoute],
  ['GET', /^\/v1\/checkout\/sessions\/([^/]+)$/, retrieveRoute((store) => store.sessions, 'checkout.session')],
  ['POST', /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, expireSessionRoute],
  ['POST', /^\/v1\/payment_intents$/, createPaymentIntentRoute],
  ['GET', /^\/v1\/payment_intents\/([^/]+)$/, retrieveRoute((store) => store.paymentIntents, 'payment_intent')],
  ['GET', /^\/v1\/charges\/([^/]+)$/, retrieveRoute((store) => store.charges, 'charge')],
  ['GET', /^\/v1\/refunds\/([^/]+)$/, retrieveRoute((store) => store.refunds, 'refund')],
  ['GET', /^\/v1\/disputes\/([^/]+)$/, retrieveRoute((store) => store.disputes, 'dispute')],
  ['GET', /^\/v1\/events\/([^/]+)$/, retrieveEventRoute],
];

function route(store: Store, method: string, path: string, form: Form): { status: number; body: unknown } {
  for (const [routeMethod, pattern, handler] of routes) {
    const match = routeMethod === method ? pattern.exec(path) : null;
    if (!match) continue;
    try {
      const result = handler(store, match.slice(1).map(decodeURIComponent), form);
      return { status: result.status ?? 200, body: result.body };
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, body: { error: error.error } };
      return { status: 500, body: { error: { type: 'api_error', message: `fake: ${(error as Error).stack}` } } };
    }
  }
  return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } } };
}

export function answer(store: Store, method: string, path: string, form: Form, rawBody: string, authorization: string | undefined, idempotencyKey: string | null): ApiResult {
  const json = (status: number, body: unknown): ApiResult => ({ status, text: JSON.stringify(body, null, 2), replayed: false });
  if (!authorization) {
    return json(401, { error: { type: 'invalid_request_error', message: 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').' } });
  }
  if (!/^Bearer (sk|rk)_\S+$/.test(authorization)) {
    return json(401, { error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${authorization.replace(/^Bearer /, '').slice(0, 8)}****` } });
  }
  if (method !== 'POST' || idempotencyKey === null) {
    const result = route(store, method, path, form);
    return json(result.status, result.body);
  }
  const fingerprint = `${method} ${path}\n${rawBody}`;
  const stored = store.storedResponses.get(idempotencyKey);
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
  const routed = route(store, method, path, form);
  const result = json(routed.status, routed.body);
  // Stripe keeps a result only once the endpoint started executing: validation errors can be retried with the key.
  if (result.status < 400 || result.status === 402) store.storedResponses.set(idempotencyKey, { fingerprint, status: result.status, text: result.text });
  return result;
}
