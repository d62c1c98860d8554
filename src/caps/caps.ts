// Spending caps (a monthly cap, per-model caps, a per-key monthly limit) and what each has spent.
// Spent = settled (the monthly rollup) + held (pending holds) in the UTC month the hold is placed.
// The check runs inside the hold's IMMEDIATE transaction, so concurrent calls cannot overshoot.
import type { DB } from '../db/connect.ts';
import type { Trx } from '../db/transaction.ts';
import { utcMonth, utcMonthBounds } from '../month.ts';

/** The caps set for a call's scope (null: none), as read at the start of its transaction (spending-policy/call-limits.ts). */
export interface CapLimits {
  userCapMc: number | null;
  modelCapMc: number | null;
  keyCapMc: number | null;
  /** The key's prefix, naming a key limit in messages. */
  keyPrefix: string | null;
  /** The key's name, for the notices of a key limit. */
  keyName: string | null;
}

export type CapScope = 'user' | 'model' | 'key';

export interface CapUse {
  scope: CapScope;
  /** The model for a model cap, the key's prefix for a key limit. */
  ref: string | null;
  capMc: number;
  spentMc: number;
}

export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
  constructor(
    readonly cap: CapUse,
    readonly requiredMc: number,
    /** The body field that sets the call's output limit, named in the advice; null for a call that writes no output (embeddings). */
    readonly limitField: string | null,
  ) {
    super(`${cap.scope} cap of ${cap.capMc} mc would be passed: spent ${cap.spentMc} mc, required ${requiredMc} mc`);
  }
}

export interface CallScope {
  userId: number;
  apiKeyId: number | null;
  model: string;
}

/** Which calls a cap counts: by model and key (null: the playground, no key). */
export type SpendMatch = (model: string, keyId: number | null) => boolean;

/**
 * A user's spending in the UTC month of `nowMs`, settled (the rollup) plus held (pending holds placed in that month),
 * summed over the calls a cap counts: the one definition behind caps, their notices and the balance card.
 */
export async function monthSpending(db: DB | Trx, userId: number, nowMs: number): Promise<(matches: SpendMatch) => number> {
  // Bounded on both sides: a settle names the month its hold was placed, which may be over, and the
  // holds pending in the months after it are not that month's spending.
  const { startMs, endMs } = utcMonthBounds(nowMs);
  const [settled, held] = await Promise.all([
    db.selectFrom('monthly_spend').select(['model', 'api_key_id', 'charged_mc']).where('user_id', '=', userId).where('month', '=', utcMonth(nowMs)).execute(),
    db
      .selectFrom('holds')
      .select(['model', 'api_key_id', 'amount_mc'])
      .where('user_id', '=', userId)
      .where('status', '=', 'pending')
      .where('created_at_ms', '>=', startMs)
      .where('created_at_ms', '<', endMs)
      .execute(),
  ]);
  return (matches) =>
    settled.reduce((sum, r) => sum + (matches(r.model, r.api_key_id === 0 ? null : r.api_key_id) ? Number(r.charged_mc) : 0), 0) +
    held.reduce((sum, h) => sum + (matches(h.model, h.api_key_id) ? Number(h.amount_mc) : 0), 0);
}

/** Every cap that applies to a call (as read with its transaction's limits), with what was spent against it this month. */
export async function capUses(db: DB | Trx, call: CallScope, nowMs: number, limits: CapLimits): Promise<CapUse[]> {
  const caps: { scope: CapScope; ref: string | null; capMc: number }[] = [];
  if (limits.userCapMc !== null) caps.push({ scope: 'user', ref: null, capMc: limits.userCapMc });
  if (limits.modelCapMc !== null) caps.push({ scope: 'model', ref: call.model, capMc: limits.modelCapMc });
  if (limits.keyCapMc !== null) caps.push({ scope: 'key', ref: limits.keyPrefix, capMc: limits.keyCapMc });
  if (caps.length === 0) return [];

  const spent = await monthSpending(db, call.userId, nowMs);
  return caps.map((cap) => ({
    ...cap,
    spentMc:
      cap.scope === 'user' ? spent(() => true) : cap.scope === 'model' ? spent((model) => model === call.model) : spent((_model, keyId) => keyId === call.apiKeyId),
  }));
}
