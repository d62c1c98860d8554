// Auto-recharge payments: the worker that charges the saved card for each pending recharge row (the
// row's id is the idempotency key, so a retry after a network error, 429 or 5xx never charges twice),
// and the one crediting function, called from the create response, the payment_intent.succeeded
// webhook and reconcile, that credits once under pi:{intent}. A paid recharge becomes a purchase
// (receipt, refunds, disputes). A decline, or any other refusal, turns auto-recharge off, raises a
// banner and sends an email.
import type { AutoRecharge } from '../db/schema.ts';
import { lockingRead } from '../db/locks.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { recordCreditIn } from '../ledger/credits.ts';
import { findEntryByKey } from '../ledger/entries.ts';
import { paymentIntentEntryKey, rechargeChargeKey } from '../ledger/idempotency-keys.ts';
import { onRechargeStarted } from '../auto-recharge/trigger.ts';
import { raiseNoticeIn } from '../alerts/notices.ts';
import type { BillingDeps } from './deps.ts';
import { errorText } from './errors.ts';
import { PaymentNetworkError, type PaymentIntentView } from './payment-provider.ts';
import { queueConfirmationIn } from './fulfil.ts';
import { newPurchaseValues } from './purchases.ts';

export const RECHARGE_RETRY_BASE_MS = 10_000;
const RECHARGE_RETRY_MAX_MS = 10 * 60_000;
/**
 * A worker that died mid-attempt holds its claim this long; then another tries, under the same key.
 * Longer than a live attempt can take (the Stripe client's 3 tries of 20 s), so a slow attempt is not
 * joined by a second; if one were, Stripe's 409 for a key in use is retried later, never a decline.
 */
export const RECHARGE_CLAIM_MS = 120_000;

export type RechargeOutcome = 'credited' | 'already_credited' | 'processing' | 'failed' | 'retry' | 'not_pending';

/**
 * The recharge row, locked to the end of the transaction (PostgreSQL; SQLite's write lock is held
 * already): the webhook, the worker and reconcile of several processes may apply one PaymentIntent at
 * once, and each decides on the row as the one before it left it.
 */
function rechargeIn(trx: Trx, rechargeId: number): Promise<AutoRecharge> {
  return lockingRead(trx, trx.selectFrom('auto_recharges').selectAll().where('id', '=', rechargeId)).executeTakeFirstOrThrow();
}

/**
 * Credits a succeeded PaymentIntent of a recharge row, once: the purchase row, the auto_recharge
 * entry under pi:{intent} and the confirmation mail commit together.
 */
export async function creditRechargeIn(trx: Trx, deps: BillingDeps, rechargeId: number, intent: PaymentIntentView): Promise<RechargeOutcome> {
  const nowMs = deps.clock.now();
  const recharge = await rechargeIn(trx, rechargeId);
  if (!intent.id) return 'not_pending';
  const key = paymentIntentEntryKey(intent.id);
  const markSucceeded = () =>
    trx.updateTable('auto_recharges').set({ status: 'succeeded', payment_intent_id: intent.id, updated_at_ms: nowMs }).where('id', '=', recharge.id).execute();
  if (await findEntryByKey(trx, key)) {
    await markSucceeded();
    return 'already_credited';
  }
  const credit = await recordCreditIn(trx, nowMs, { userId: recharge.user_id, type: 'auto_recharge', amountMc: recharge.credits_mc, reference: intent.id, idempotencyKey: key });
  // Credited by another transaction after the look above: no second purchase, no second mail.
  if (credit.duplicate) {
    await markSucceeded();
    return 'already_credited';
  }
  const pkg = { id: recharge.package_id, name: recharge.package_name, price_cents: recharge.price_cents, currency: recharge.currency, credits_mc: recharge.credits_mc };
  const purchase = await trx
    .insertInto('purchases')
    .values({
      ...newPurchaseValues({ userId: recharge.user_id, pkg, saveCard: false, mode: deps.provider.mode }, nowMs),
      kind: 'auto_recharge',
      status: 'paid',
      payment_intent_id: intent.id,
      charge_id: intent.chargeId,
      receipt_url: intent.receiptUrl,
      paid_amount_cents: intent.amountCents ?? recharge.price_cents,
      paid_currency: intent.currency ?? recharge.currency,
      paid_at_ms: nowMs,
      created_at_ms: recharge.created_at_ms,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await markSucceeded();
  await queueConfirmationIn(trx, deps, purchase, credit.balanceMc, nowMs);
  return 'credited';
}

/** A decline, a card that needs the customer, or a refusal by the provider: the recharge fails and auto-recharge is turned off. */
export async function failRechargeIn(trx: Trx, deps: BillingDeps, rechargeId: number, reason: string, paymentIntentId: string | null, why?: string): Promise<void> {
  why ??= reason === 'authentication_required' ? 'your bank asked to confirm the payment, which cannot be done while you are away' : 'your card was declined';
  const nowMs = deps.clock.now();
  const recharge = await rechargeIn(trx, rechargeId);
  if (recharge.status !== 'pending') return;
  await trx
    .updateTable('auto_recharges')
    .set({ status: 'failed', failure_reason: reason, payment_intent_id: paymentIntentId ?? recharge.payment_intent_id, updated_at_ms: nowMs })
    .where('id', '=', recharge.id)
    .execute();
  await trx.updateTable('billing_settings').set({ auto_recharge_enabled: 0, updated_at_ms: nowMs }).where('user_id', '=', recharge.user_id).execute();
  await raiseNoticeIn(trx, nowMs, {
    userId: recharge.user_id,
    kind: 'auto_recharge_failed',
    dedupeKey: `auto_recharge_failed:${recharge.id}`,
    message: `Auto-recharge of ${recharge.package_name} failed (${why}) and is now off. Buy credits to keep your calls running, then turn it on again in billing settings.`,
    email: {
      subject: 'Your tokentab auto-recharge failed and is now off',
      text: `We tried to buy ${recharge.package_name} with your saved card, but ${why} (${reason}).\n\nAuto-recharge is now turned off, so no further attempt will be made. Buy credits on the Credits tab to keep your calls running, and turn auto-recharge on again in your billing settings: ${deps.publicUrl}/settings/billing\n`,
    },
  });
}

async function customerIdOf(deps: BillingDeps, userId: number): Promise<string | null> {
  if (!deps.provider.usesCustomers) return null;
  const row = await deps.db.selectFrom('billing_customers').select('stripe_customer_id').where('user_id', '=', userId).executeTakeFirst();
  return row?.stripe_customer_id ?? null;
}

/** Applies what the provider says of a recharge's PaymentIntent, in one transaction. */
export async function applyIntentToRecharge(deps: BillingDeps, rechargeId: number, intent: PaymentIntentView): Promise<RechargeOutcome> {
  return writeTransaction(deps.db, async (trx) => {
    const recharge = await rechargeIn(trx, rechargeId);
    if (intent.status === 'succeeded') return creditRechargeIn(trx, deps, rechargeId, intent);
    if (recharge.status !== 'pending') return 'not_pending';
    if (intent.status === 'processing') {
      await trx
        .updateTable('auto_recharges')
        .set({ payment_intent_id: intent.id, next_attempt_at_ms: deps.clock.now() + RECHARGE_RETRY_MAX_MS, claimed_until_ms: null, updated_at_ms: deps.clock.now() })
        .where('id', '=', rechargeId)
        .execute();
      return 'processing';
    }
    await failRechargeIn(trx, deps, rechargeId, intent.failureCode ?? 'card_declined', intent.id);
    return 'failed';
  });
}

/**
 * Claims up to `limit` pending recharges for this worker: those due (`due`), or those with a
 * PaymentIntent to look up whatever their next attempt (`with_intent`, reconcile's), in either case
 * only those no live worker has claimed. Each is claimed until RECHARGE_CLAIM_MS from now and its
 * attempt counted. On PostgreSQL the rows are read FOR UPDATE SKIP LOCKED, so a worker in another
 * process passes over the rows this one is taking, and reads them claimed once this commits; on
 * SQLite the transaction holds the one write lock. This is a durable commit, made before the
 * provider is called (it also makes the hold that started the recharge durable: db/transaction.ts).
 * Only rows after `afterId`, so a run goes through the rows once. Returns the rows as claimed.
 */
export async function claimRecharges(deps: BillingDeps, which: 'due' | 'with_intent', afterId = 0, limit = 10): Promise<AutoRecharge[]> {
  return writeTransaction(deps.db, async (trx) => {
    const nowMs = deps.clock.now();
    const unclaimed = trx
      .selectFrom('auto_recharges')
      .selectAll()
      .where('status', '=', 'pending')
      .where('id', '>', afterId)
      .where((eb) => eb.or([eb('claimed_until_ms', 'is', null), eb('claimed_until_ms', '<', nowMs)]));
    const rows = which === 'due' ? unclaimed.where('next_attempt_at_ms', '<=', nowMs) : unclaimed.where('payment_intent_id', 'is not', null);
    const claimable = await lockingRead(trx, rows.orderBy('id').limit(limit), { skipLocked: true }).execute();
    const claimed: AutoRecharge[] = [];
    for (const recharge of claimable) {
      const claim = { attempts: recharge.attempts + 1, claimed_until_ms: nowMs + RECHARGE_CLAIM_MS, updated_at_ms: nowMs };
      await trx.updateTable('auto_recharges').set(claim).where('id', '=', recharge.id).execute();
      claimed.push({ ...recharge, ...claim });
    }
    return claimed;
  });
}

/**
 * One attempt for one pending recharge this worker claimed (claimRecharges): create (or, after a lost
 * answer, find again under the same key) the off-session PaymentIntent, then apply its outcome. A
 * network error or a provider that is briefly unavailable (429, 5xx) schedules a retry; any other
 * refusal fails the recharge as a decline does, since asking again would only be refused again.
 */
export async function attemptRecharge(deps: BillingDeps, recharge: AutoRecharge): Promise<RechargeOutcome> {
  const nowMs = deps.clock.now();
  const customerId = recharge.payment_intent_id ? null : await customerIdOf(deps, recharge.user_id);
  let intent: PaymentIntentView;
  try {
    intent = recharge.payment_intent_id
      ? await deps.provider.retrievePaymentIntent(recharge.payment_intent_id)
      : await deps.provider.chargeSavedCard({
          customerId,
          paymentMethodId: recharge.payment_method_id,
          amountCents: recharge.price_cents,
          currency: recharge.currency,
          idempotencyKey: rechargeChargeKey(recharge.id),
          metadata: { kind: 'auto_recharge', recharge_id: String(recharge.id), user_id: String(recharge.user_id) },
        });
  } catch (error) {
    if (error instanceof PaymentNetworkError) {
      // Doubling from the base: `attempts` counts this one already (claimRecharges).
      const delayMs = Math.min(RECHARGE_RETRY_BASE_MS * 2 ** (recharge.attempts - 1), RECHARGE_RETRY_MAX_MS);
      await deps.db
        .updateTable('auto_recharges')
        .set({ next_attempt_at_ms: nowMs + delayMs, claimed_until_ms: null, failure_reason: `temporary: ${error.message}`.slice(0, 300) })
        .where('id', '=', recharge.id)
        .execute();
      deps.log(`auto-recharge ${recharge.id}: the payment provider did not answer or was busy (${error.message}); retrying in ${delayMs / 1000} s with the same key`);
      return 'retry';
    }
    deps.log(`auto-recharge ${recharge.id}: the payment provider refused it (${errorText(error)}); the recharge fails and auto-recharge is turned off`);
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : 'payment_refused';
    await writeTransaction(deps.db, (trx) => failRechargeIn(trx, deps, recharge.id, reason, recharge.payment_intent_id, 'the payment provider refused the payment'));
    return 'failed';
  }
  return applyIntentToRecharge(deps, recharge.id, intent);
}

/**
 * Claims and attempts, batch by batch, the pending recharges of `which` (claimRecharges) that no other
 * worker holds. An attempt that throws keeps its claim, so the row is tried again once that runs out.
 */
export async function attemptClaimedRecharges(deps: BillingDeps, which: 'due' | 'with_intent', onOutcome: (recharge: AutoRecharge, outcome: RechargeOutcome) => void = () => {}): Promise<RechargeOutcome[]> {
  const outcomes: RechargeOutcome[] = [];
  // By id: a row left pending (processing, a retry) is not taken again in this run.
  let afterId = 0;
  for (;;) {
    const batch = await claimRecharges(deps, which, afterId);
    afterId = batch.at(-1)?.id ?? afterId;
    for (const recharge of batch) {
      try {
        const outcome = await attemptRecharge(deps, recharge);
        outcomes.push(outcome);
        onOutcome(recharge, outcome);
      } catch (error) {
        deps.log(`auto-recharge ${recharge.id}: ${errorText(error)}`);
      }
    }
    if (batch.length === 0) return outcomes;
  }
}

/** Every pending recharge that is due: new ones, network retries, and processing ones to look at again. */
export function processDueRecharges(deps: BillingDeps): Promise<RechargeOutcome[]> {
  return attemptClaimedRecharges(deps, 'due');
}

/**
 * Wakes when a hold or settle starts a recharge, and sweeps for retries every `everyMs`. `around`
 * wraps each round (the server records it for the health page: src/jobs/worker-runs.ts).
 */
export function startRechargeWorker(deps: BillingDeps, everyMs = 5_000, around: (round: () => Promise<RechargeOutcome[]>) => Promise<unknown> = (round) => round()): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const round = () => {
    if (!stopped) running = running.then(() => around(() => processDueRecharges(deps))).catch((error) => deps.log(`auto-recharge: ${errorText(error)}`));
  };
  const unsubscribe = onRechargeStarted(round);
  const timer = setInterval(round, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
      await running;
    },
  };
}

/** The recharge a PaymentIntent belongs to: by its stored id, else by the metadata the intent carries. */
export async function rechargeForIntent(deps: BillingDeps, intentId: string, metadata: Record<string, string>): Promise<number | null> {
  const stored = await deps.db.selectFrom('auto_recharges').select('id').where('payment_intent_id', '=', intentId).executeTakeFirst();
  if (stored) return stored.id;
  if (metadata.kind !== 'auto_recharge' || !/^\d+$/.test(metadata.recharge_id ?? '')) return null;
  const named = await deps.db.selectFrom('auto_recharges').select('id').where('id', '=', Number(metadata.recharge_id)).executeTakeFirst();
  return named?.id ?? null;
}
