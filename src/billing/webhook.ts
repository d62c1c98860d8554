// Stripe's events: the signature checked on the raw body, what each handled type needs fetched
// before the transaction, and the one transaction that records the event processed and applies it.
import type Stripe from 'stripe';
import { stripeSdk } from './stripe-sdk.ts';
import type { Purchase } from '../db/schema.ts';
import { lockingRead } from '../db/locks.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { applyDisputeIn, applyRefundIn } from './clawback.ts';
import type { BillingDeps } from './deps.ts';
import { WebhookSignatureError } from './errors.ts';
import { fulfilSessionIn, markUnpaidIn } from './fulfil.ts';
import { creditRechargeIn, failRechargeIn, rechargeForIntent } from './auto-recharge.ts';
import { findPurchaseForSession } from './purchases.ts';

export const HANDLED_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
] as const;

const handled = new Set<string>(HANDLED_EVENT_TYPES);

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

/** Verifies the body exactly as received (Stripe signs its own pretty-printed bytes). */
export function verifyStripeEvent(rawBody: string, signatureHeader: string | undefined, secret: string | null): Stripe.Event {
  if (!secret) throw new WebhookSignatureError('STRIPE_WEBHOOK_SECRET is not set, so no event can be trusted');
  if (!signatureHeader) throw new WebhookSignatureError('the Stripe-Signature header is missing');
  try {
    return stripeSdk().webhooks.constructEvent(rawBody, signatureHeader, secret);
  } catch (error) {
    throw new WebhookSignatureError((error as Error).message);
  }
}

/** Applies an event in its transaction. */
type Apply = (trx: Trx, nowMs: number) => Promise<void>;

/**
 * Applies one verified event. Whatever needs the network happens first; then one transaction records
 * the event, as its first write, and applies it. The record is an insert that does nothing when the
 * event is already recorded, by an earlier delivery or by a concurrent one that commits first (which
 * PostgreSQL waits for): that delivery is a duplicate and writes nothing. If applying throws, the
 * record is rolled back with it and the caller answers 500, so Stripe delivers it again.
 */
export async function handleStripeEvent(deps: BillingDeps, event: Stripe.Event): Promise<WebhookOutcome> {
  if (!handled.has(event.type)) return 'ignored';
  if (await deps.db.selectFrom('stripe_events').select('id').where('id', '=', event.id).executeTakeFirst()) return 'duplicate';
  const apply = await prepare(deps, event);
  return writeTransaction(deps.db, async (trx): Promise<WebhookOutcome> => {
    const nowMs = deps.clock.now();
    const recorded = await trx
      .insertInto('stripe_events')
      .values({ id: event.id, type: event.type, processed_at_ms: nowMs })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(recorded.numInsertedOrUpdatedRows ?? 0) === 0) return 'duplicate';
    await apply(trx, nowMs);
    return 'applied';
  });
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

async function prepare(deps: BillingDeps, event: Stripe.Event): Promise<Apply> {
  const ignore = (why: string): Apply => async () => deps.log(`billing: ${event.type} ${event.id}: ${why}; nothing to do`);
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      // The event may be old: the session as it is now decides (and brings the charge's receipt).
      const session = await deps.provider.retrieveSession(event.data.object.id);
      return async (trx) => {
        const outcome = await fulfilSessionIn(trx, deps, session);
        if (outcome.kind === 'unknown') deps.log(`billing: ${event.type} ${event.id}: ${session.id} is not a tokentab purchase; ignored`);
      };
    }
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired': {
      const session = event.data.object;
      const status = event.type === 'checkout.session.expired' ? 'expired' : 'failed';
      return async (trx, nowMs) => {
        const purchase = await findPurchaseForSession(trx, session.id, session.metadata?.purchase_id ?? session.client_reference_id);
        if (purchase) await markUnpaidIn(trx, nowMs, purchase.id, status, ['pending']);
        else deps.log(`billing: ${event.type} ${event.id}: ${session.id} is not a tokentab purchase; ignored`);
      };
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const publicId = await purchaseIdForCharge(deps, charge.id, idOf(charge.payment_intent), charge.metadata?.purchase_id ?? null);
      if (!publicId) return ignore(`charge ${charge.id} is not a purchase's`);
      return async (trx, nowMs) => {
        await applyRefundIn(trx, nowMs, await purchaseByPublicId(trx, publicId), { chargeId: charge.id, amountRefundedCents: charge.amount_refunded });
      };
    }
    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const dispute = event.data.object;
      const chargeId = idOf(dispute.charge)!;
      const publicId = await purchaseIdForCharge(deps, chargeId, idOf(dispute.payment_intent), null);
      if (!publicId) return ignore(`charge ${chargeId} is not a purchase's`);
      return async (trx, nowMs) => {
        await applyDisputeIn(trx, nowMs, await purchaseByPublicId(trx, publicId), { id: dispute.id, chargeId, status: dispute.status, amountCents: dispute.amount });
      };
    }
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed': {
      // Only auto-recharges are credited from PaymentIntents: a Checkout purchase's own intent is
      // credited through its session, under checkout:{session}, and must never be credited twice.
      const intent = event.data.object;
      const rechargeId = await rechargeForIntent(deps, intent.id, intent.metadata ?? {});
      if (rechargeId === null) return ignore(`${intent.id} is not an auto-recharge's`);
      const view = await deps.provider.retrievePaymentIntent(intent.id);
      return async (trx) => {
        if (view.status === 'succeeded') {
          await creditRechargeIn(trx, deps, rechargeId, view);
        } else if (view.status === 'failed') await failRechargeIn(trx, deps, rechargeId, view.failureCode ?? 'card_declined', view.id);
      };
    }
    default:
      return ignore('not handled');
  }
}

/** Read locked to the end of the transaction, so what a refund or a dispute decides from it is still so when it writes. */
function purchaseByPublicId(trx: Trx, publicId: string): Promise<Purchase> {
  return lockingRead(trx, trx.selectFrom('purchases').selectAll().where('public_id', '=', publicId)).executeTakeFirstOrThrow();
}

/**
 * A charge's purchase: known locally once credited (charge or intent stored), else named by the
 * metadata the charge inherited from its PaymentIntent, else asked of the provider (before the transaction).
 */
async function purchaseIdForCharge(deps: BillingDeps, chargeId: string, paymentIntentId: string | null, metadataPurchaseId: string | null): Promise<string | null> {
  const local = await deps.db
    .selectFrom('purchases')
    .select('public_id')
    .where((eb) => (paymentIntentId ? eb.or([eb('charge_id', '=', chargeId), eb('payment_intent_id', '=', paymentIntentId)]) : eb('charge_id', '=', chargeId)))
    .executeTakeFirst();
  if (local) return local.public_id;
  const named = metadataPurchaseId ?? (await deps.provider.purchaseIdForCharge(chargeId, paymentIntentId));
  if (!named) return null;
  const exists = await deps.db.selectFrom('purchases').select('public_id').where('public_id', '=', named).executeTakeFirst();
  return exists?.public_id ?? null;
}
