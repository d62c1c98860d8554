// Starts an auto-recharge inside the hold's or settle's transaction: a pending row (at most one per
// user, the database's partial UNIQUE index behind the check), the package snapshotted. The payment
// is made after commit by the recharge worker (src/billing/auto-recharge.ts), with the row as its idempotency key.
import type { DB } from '../db/connect.ts';
import type { Trx } from '../db/transaction.ts';
import { utcMonthBounds } from '../month.ts';
import { packageOnSale } from '../pricing/packages.ts';

/** A user's auto-recharge, when it is on and has a package. */
export interface AutoRechargeSettings {
  thresholdMc: number;
  packageId: string;
  monthlyLimit: number;
}

/** What the trigger needs, read at the start of the hold's or settle's transaction (spending-policy/call-limits.ts). */
export interface RechargeState {
  /** null when auto-recharge is off or has no package. */
  autoRecharge: AutoRechargeSettings | null;
  /** A recharge of this user is pending (at most one: the partial UNIQUE index). */
  rechargePending: boolean;
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** The recharge worker listens; a started recharge wakes it once the transaction has committed. */
export function onRechargeStarted(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The user's succeeded recharges created in the UTC month of `nowMs`: what the monthly limit counts. */
export async function succeededRechargesInMonth(db: DB | Trx, userId: number, nowMs: number): Promise<number> {
  const { startMs, endMs } = utcMonthBounds(nowMs);
  const done = await db
    .selectFrom('auto_recharges')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'succeeded')
    .where('created_at_ms', '>=', startMs)
    .where('created_at_ms', '<', endMs)
    .executeTakeFirstOrThrow();
  return Number(done.n);
}

/** Returns the id of the recharge started, or null. */
export async function startRechargeIfDue(trx: Trx, userId: number, availableMc: number, nowMs: number, state: RechargeState): Promise<number | null> {
  const settings = state.autoRecharge;
  if (!settings || availableMc >= settings.thresholdMc || state.rechargePending) return null;
  if ((await succeededRechargesInMonth(trx, userId, nowMs)) >= settings.monthlyLimit) return null;
  const [card, pkg] = await Promise.all([
    trx.selectFrom('saved_cards').select('payment_method_id').where('user_id', '=', userId).executeTakeFirst(),
    packageOnSale(trx, settings.packageId),
  ]);
  if (!card || !pkg || pkg.credits_mc <= settings.thresholdMc) return null;
  const row = await trx
    .insertInto('auto_recharges')
    .values({
      user_id: userId,
      package_id: pkg.id,
      package_name: pkg.name,
      price_cents: pkg.price_cents,
      currency: pkg.currency,
      credits_mc: pkg.credits_mc,
      payment_method_id: card.payment_method_id,
      status: 'pending',
      payment_intent_id: null,
      attempts: 0,
      next_attempt_at_ms: nowMs,
      failure_reason: null,
      created_at_ms: nowMs,
      updated_at_ms: nowMs,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  // Deferred: the worker's own query waits for this transaction anyway (one connection per process).
  setImmediate(() => listeners.forEach((listener) => listener()));
  return row.id;
}
