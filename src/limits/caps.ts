// Spending caps (a monthly cap, per-model caps, a per-key monthly limit) and calls in flight per key.
// Spent = settled (the monthly rollup) + held (pending holds) in the UTC month the hold is placed.
// The check runs inside the hold's IMMEDIATE transaction, so concurrent calls cannot overshoot.
import type { DB } from '../db/connect.ts';
import type { Trx } from '../db/transaction.ts';
import { utcMonth, utcMonthBounds } from '../ledger/month.ts';
import type { Budget } from '../pricing/limits.ts';

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
  ) {
    super(`${cap.scope} cap of ${cap.capMc} mc would be passed: spent ${cap.spentMc} mc, required ${requiredMc} mc`);
  }
}

export class TooManyInFlightError extends Error {
  override name = 'TooManyInFlightError';
  constructor(
    readonly apiKeyId: number,
    readonly limit: number,
  ) {
    super(`key ${apiKeyId} already has ${limit} calls in flight`);
  }
}

export interface CallScope {
  userId: number;
  apiKeyId: number | null;
  model: string;
}

/** Every cap that applies to a call, with what was spent against it this month. */
export async function capUses(db: DB | Trx, call: CallScope, nowMs: number): Promise<CapUse[]> {
  const month = utcMonth(nowMs);
  const { startMs } = utcMonthBounds(nowMs);
  const [settings, modelCap, key] = await Promise.all([
    db.selectFrom('billing_settings').select('monthly_cap_mc').where('user_id', '=', call.userId).executeTakeFirst(),
    db.selectFrom('model_caps').select('cap_mc').where('user_id', '=', call.userId).where('model', '=', call.model).executeTakeFirst(),
    call.apiKeyId === null ? undefined : db.selectFrom('api_keys').select(['monthly_limit_mc', 'prefix']).where('id', '=', call.apiKeyId).executeTakeFirst(),
  ]);
  const caps: { scope: CapScope; ref: string | null; capMc: number }[] = [];
  if (settings?.monthly_cap_mc != null) caps.push({ scope: 'user', ref: null, capMc: settings.monthly_cap_mc });
  if (modelCap) caps.push({ scope: 'model', ref: call.model, capMc: modelCap.cap_mc });
  if (key?.monthly_limit_mc != null) caps.push({ scope: 'key', ref: key.prefix, capMc: key.monthly_limit_mc });
  if (caps.length === 0) return [];

  const [settled, held] = await Promise.all([
    db.selectFrom('monthly_spend').select(['model', 'api_key_id', 'charged_mc']).where('user_id', '=', call.userId).where('month', '=', month).execute(),
    db.selectFrom('holds').select(['model', 'api_key_id', 'amount_mc']).where('user_id', '=', call.userId).where('status', '=', 'pending').where('created_at_ms', '>=', startMs).execute(),
  ]);
  const spent = (matches: (model: string, keyId: number | null) => boolean) =>
    settled.reduce((sum, r) => sum + (matches(r.model, r.api_key_id === 0 ? null : r.api_key_id) ? Number(r.charged_mc) : 0), 0) +
    held.reduce((sum, h) => sum + (matches(h.model, h.api_key_id) ? Number(h.amount_mc) : 0), 0);
  return caps.map((cap) => ({
    ...cap,
    spentMc:
      cap.scope === 'user' ? spent(() => true) : cap.scope === 'model' ? spent((model) => model === call.model) : spent((_model, keyId) => keyId === call.apiKeyId),
  }));
}

/** The caps as budgets for the output limit: what each still allows. */
export function capBudgets(uses: CapUse[]): Budget[] {
  return uses.map((use) => ({ scope: use.scope, remainingMc: Math.max(0, use.capMc - use.spentMc) }));
}

/**
 * Refuses a call when its key already has its limit of calls in flight: counted from the key's
 * pending holds inside the hold's transaction, so the limit holds across processes.
 */
export async function assertKeyHasRoom(trx: Trx, apiKeyId: number): Promise<void> {
  const key = await trx.selectFrom('api_keys').select('max_in_flight').where('id', '=', apiKeyId).executeTakeFirst();
  if (!key) return;
  const inFlight = await trx
    .selectFrom('holds')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('api_key_id', '=', apiKeyId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  if (Number(inFlight.n) >= key.max_in_flight) throw new TooManyInFlightError(apiKeyId, key.max_in_flight);
}
