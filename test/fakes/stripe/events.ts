// Events and webhooks: the `event` control, GET /v1/events/:id, and signing and delivering a webhook as Stripe does.
import Stripe from 'stripe';
import { checkParams, RETRIEVE_PARAMS } from './params.ts';
import { clone, must, nowSeconds, randomId, type Handler, type Store } from './store.ts';

export interface SignedWebhook {
  payload: string;
  headers: { 'stripe-signature': string; 'content-type': 'application/json' };
}

export function createEvent(store: Store, type: Stripe.Event.Type, object: object, eventOptions: { previousAttributes?: Record<string, unknown> } = {}): Stripe.Event {
  const event = {
    id: randomId('evt_'), object: 'event', api_version: Stripe.API_VERSION, created: nowSeconds(store),
    data: { object: clone(object), ...(eventOptions.previousAttributes ? { previous_attributes: clone(eventOptions.previousAttributes) } : {}) },
    livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type,
  };
  store.events.set(event.id, event);
  return clone(event) as unknown as Stripe.Event;
}

export const retrieveEventRoute: Handler = (store, [id], form) => {
  checkParams(form, RETRIEVE_PARAMS);
  return { body: must(store.events, id!, 'event') };
};

export function signedWebhook(event: Stripe.Event, secret: string, signOptions: { timestamp?: number } = {}): SignedWebhook {
  // Stripe sends pretty-printed JSON: an app that re-serialises the parsed body fails the signature, as it would live.
  const payload = JSON.stringify(event, null, 2);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(signOptions.timestamp === undefined ? {} : { timestamp: signOptions.timestamp }) });
  return { payload, headers: { 'stripe-signature': signature, 'content-type': 'application/json' } };
}

export async function deliver(target: string, event: Stripe.Event, secret: string): Promise<Response> {
  const signed = signedWebhook(event, secret);
  return fetch(target, { method: 'POST', headers: signed.headers, body: signed.payload, redirect: 'manual' });
}
