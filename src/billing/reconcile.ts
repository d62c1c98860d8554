// Reconcile: the recovery for a webhook outage. Lists the provider's recent paid Checkout Sessions
// and fulfils those of our purchases not yet credited, and asks how each pending auto-recharge with a
// PaymentIntent ended; run by the CLI and by a server timer.
import type { BillingDeps } from './deps.ts';
import { fulfilCheckoutSession } from './fulfil.ts';
import { checkoutEntryKey } from '../ledger/idempotency-keys.ts';
import { attemptClaimedRecharges } from './auto-recharge.ts';
import { findPurchaseForSession } from './purchases.ts';

export const RECONCILE_DEFAULT_HOURS = 72;

export interface ReconcileResult {
  /** Paid sessions that belong to a purchase here, and pending recharges looked up. */
  checked: number;
  /** Sessions (and recharge PaymentIntents) credited by this run. */
  fulfilled: string[];
}

export async function reconcilePurchases(deps: BillingDeps, sinceMs: number): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, fulfilled: [] };
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
  return result;
}

/**
 * Reconcile over the last RECONCILE_DEFAULT_HOURS, logging what it credited: the server's job, run at
 * start and every RECONCILE_EVERY_SECONDS by one process at a time (src/jobs/singleton.ts).
 */
export async function reconcileRecent(deps: BillingDeps, sinceHours = RECONCILE_DEFAULT_HOURS): Promise<ReconcileResult> {
  const result = await reconcilePurchases(deps, deps.clock.now() - sinceHours * 3600_000);
  if (result.fulfilled.length > 0) deps.log(`reconcile: credited ${result.fulfilled.length} purchase(s) the webhook had missed: ${result.fulfilled.join(', ')}`);
  return result;
}
