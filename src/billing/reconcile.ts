// Reconcile: the recovery for a webhook outage. Lists the provider's recent paid Checkout Sessions
// and fulfils those of our purchases not yet credited, and asks how each pending auto-recharge with a
// PaymentIntent ended; run by the CLI and by a server timer.
import type { BillingDeps } from './deps.ts';
import { fulfilCheckoutSession } from './fulfil.ts';
import { checkoutEntryKey } from '../ledger/idempotency-keys.ts';
import { attemptClaimedRecharges } from './auto-recharge.ts';
import { findPurchaseForSession } from './purchases.ts';
import { CHECKOUT_SESSION_LIFETIME_MS } from './payment-provider.ts';
import { errorText } from './errors.ts';

/** Purchases left at checkout looked up per run: the oldest first, the rest on the next run. */
const LEFT_PURCHASES_PER_RUN = 100;

export const RECONCILE_DEFAULT_HOURS = 72;

export interface ReconcileResult {
  /** Paid sessions that belong to a purchase here, and pending recharges looked up. */
  checked: number;
  /** Sessions (and recharge PaymentIntents) credited by this run. */
  fulfilled: string[];
  /** Sessions of purchases left at checkout that the provider had expired, recorded expired by this run. */
  expired: string[];
}

export async function reconcilePurchases(deps: BillingDeps, sinceMs: number): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, fulfilled: [], expired: [] };
  for await (const session of deps.provider.listPaidSessions(sinceMs)) {
    // The account may serve other apps: only sessions made for a purchase here are ours.
    if (!session.purchasePublicId) continue;
    if (!(await findPurchaseForSession(deps.db, session.id, session.purchasePublicId))) continue;
    result.checked++;
    const credited = await deps.db.selectFrom('ledger_entries').select('id').where('idempotency_key', '=', checkoutEntryKey(session.id)).executeTakeFirst();
    if (credited) continue;
    const outcome = await fulfilCheckoutSession(deps, session.id);
    if (outcome.kind === 'credited') result.fulfilled.push(session.id);
  }
  // Our own pending recharges whose PaymentIntent exists: ask the provider how each ended (those a
  // recharge worker is attempting right now are its to finish).
  await attemptClaimedRecharges(deps, 'with_intent', (recharge, outcome) => {
    result.checked++;
    if (outcome === 'credited') result.fulfilled.push(recharge.payment_intent_id!);
  });
  await recordExpiredCheckouts(deps, result);
  return result;
}

/**
 * Purchases still pending past their session's lifetime (the expired webhook was missed, or the demo
 * provider, which sends none): one look at each session records it expired (or credits it, had it
 * been paid after all). Errors leave it pending for the next run.
 */
async function recordExpiredCheckouts(deps: BillingDeps, result: ReconcileResult): Promise<void> {
  const left = await deps.db
    .selectFrom('purchases')
    .select(['checkout_session_id'])
    .where('status', '=', 'pending')
    .where('kind', '=', 'checkout')
    .where('checkout_session_id', 'is not', null)
    .where('created_at_ms', '<=', deps.clock.now() - CHECKOUT_SESSION_LIFETIME_MS)
    .orderBy('created_at_ms')
    .orderBy('id')
    .limit(LEFT_PURCHASES_PER_RUN)
    .execute();
  for (const { checkout_session_id: sessionId } of left) {
    result.checked++;
    try {
      const outcome = await fulfilCheckoutSession(deps, sessionId!);
      if (outcome.kind === 'credited') result.fulfilled.push(sessionId!);
      else if (outcome.kind === 'not_paid' && outcome.purchase.status === 'expired') result.expired.push(sessionId!);
    } catch (error) {
      deps.log(`reconcile: could not look at ${sessionId}: ${errorText(error)}`);
    }
  }
}

/**
 * Reconcile over the last RECONCILE_DEFAULT_HOURS, logging what it credited: the server's job, run at
 * start and every RECONCILE_EVERY_SECONDS by one process at a time (src/jobs/singleton.ts).
 */
export async function reconcileRecent(deps: BillingDeps, sinceHours = RECONCILE_DEFAULT_HOURS): Promise<ReconcileResult> {
  const result = await reconcilePurchases(deps, deps.clock.now() - sinceHours * 3600_000);
  if (result.expired.length > 0) deps.log(`reconcile: ${result.expired.length} purchase(s) left at checkout expired: ${result.expired.join(', ')}`);
  if (result.fulfilled.length > 0) deps.log(`reconcile: credited ${result.fulfilled.length} purchase(s) the webhook had missed: ${result.fulfilled.join(', ')}`);
  return result;
}
