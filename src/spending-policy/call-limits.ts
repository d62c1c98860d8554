// What a ledger write needs to know about a user (and a call's key and model), read in one statement
// at the start of its transaction: the wallet, the low-balance alert's state, auto-recharge and whether
// one is pending, the caps, and the key's and the user's calls in flight. Holds and settles used to look each of these
// up on its own, mostly to find nothing set; on the gateway's path every statement costs ≈ 15–20 µs.
import type { LowBalanceState } from '../alerts/low-balance.ts';
import type { AutoRechargeSettings, RechargeState } from '../auto-recharge/trigger.ts';
import type { CapLimits } from '../caps/caps.ts';
import type { KeyInFlight } from '../caps/in-flight.ts';
import { rawFirst } from '../db/raw.ts';
import type { Trx } from '../db/transaction.ts';
import type { SettleChange, WalletState, WriteScope } from '../ledger/policy.ts';

export interface CallLimits extends WalletState, RechargeState {
  lowBalance: LowBalanceState;
  caps: CapLimits;
  /** null without a key. */
  keyInFlight: KeyInFlight | null;
  /** The user's calls in flight (pending holds), over every key and the playground. */
  userInFlight: number;
}

interface Row {
  balance_mc: number;
  held_mc: number;
  promo_mc: number;
  low_balance_threshold_mc: number;
  low_balance_alerted: number;
  auto_recharge_enabled: number | null;
  auto_recharge_threshold_mc: number | null;
  auto_recharge_package_id: string | null;
  auto_recharge_monthly_limit: number | null;
  recharge_pending: number;
  user_cap_mc: number | null;
  model_cap_mc: number | null;
  key_cap_mc: number | null;
  key_prefix: string | null;
  key_name: string | null;
  key_max_in_flight: number | null;
  key_in_flight: number;
  user_in_flight: number;
}

// The key is joined by id alone (no match without one); its calls in flight and the user's come from
// the partial index of pending holds (user_id, api_key_id), a pending recharge from the partial UNIQUE index of pending recharges
// (case … exists rather than a bare exists: a 0/1 integer in SQLite and PostgreSQL alike).
const READ_LIMITS = `select w.balance_mc, w.held_mc, w.promo_mc, u.low_balance_threshold_mc, u.low_balance_alerted,
  b.auto_recharge_enabled, b.auto_recharge_threshold_mc, b.auto_recharge_package_id, b.auto_recharge_monthly_limit,
  case when exists (select 1 from auto_recharges where user_id = w.user_id and status = 'pending') then 1 else 0 end as recharge_pending,
  b.monthly_cap_mc as user_cap_mc,
  (select cap_mc from model_caps where user_id = w.user_id and model = ?) as model_cap_mc,
  k.monthly_limit_mc as key_cap_mc, k.prefix as key_prefix, k.name as key_name, k.max_in_flight as key_max_in_flight,
  (select count(*) from holds where user_id = w.user_id and api_key_id = k.id and status = 'pending') as key_in_flight,
  (select count(*) from holds where user_id = w.user_id and status = 'pending') as user_in_flight
from wallets w
join users u on u.id = w.user_id
left join billing_settings b on b.user_id = w.user_id
left join api_keys k on k.id = ? and k.user_id = w.user_id
where w.user_id = ?`;

const nullableNumber = (value: number | null) => (value === null ? null : Number(value));

/**
 * Built only by readCallLimits, so asCallLimits can tell this read from any other WalletState (an
 * instanceof check: no extra field, no extra allocation on the hot path).
 */
class ReadCallLimits implements CallLimits {
  readonly balanceMc: number;
  readonly heldMc: number;
  readonly availableMc: number;
  readonly promoMc: number;
  readonly lowBalance: LowBalanceState;
  readonly autoRecharge: AutoRechargeSettings | null;
  readonly rechargePending: boolean;
  readonly caps: CapLimits;
  readonly keyInFlight: KeyInFlight | null;
  readonly userInFlight: number;

  constructor(row: Row, scope: WriteScope) {
    const rechargeOn = row.auto_recharge_enabled === 1 && row.auto_recharge_package_id !== null;
    this.balanceMc = Number(row.balance_mc);
    this.heldMc = Number(row.held_mc);
    this.availableMc = Number(row.balance_mc) - Number(row.held_mc);
    this.promoMc = Number(row.promo_mc);
    this.lowBalance = { thresholdMc: Number(row.low_balance_threshold_mc), alerted: row.low_balance_alerted === 1 };
    this.autoRecharge = rechargeOn
      ? { thresholdMc: Number(row.auto_recharge_threshold_mc), packageId: row.auto_recharge_package_id!, monthlyLimit: Number(row.auto_recharge_monthly_limit) }
      : null;
    this.rechargePending = Number(row.recharge_pending) === 1;
    this.caps = {
      userCapMc: nullableNumber(row.user_cap_mc),
      modelCapMc: scope.model === null ? null : nullableNumber(row.model_cap_mc),
      keyCapMc: nullableNumber(row.key_cap_mc),
      keyPrefix: row.key_prefix,
      keyName: row.key_name,
    };
    this.keyInFlight = scope.apiKeyId === null ? null : { max: nullableNumber(row.key_max_in_flight), current: Number(row.key_in_flight) };
    this.userInFlight = Number(row.user_in_flight);
  }
}

/**
 * The limits as readCallLimits would read them for the same scope after a hold of `amountMc` was placed
 * on them: more held, one more call in flight for the user and its key. What hooks may change besides
 * (a recharge started) is the policy's to know (spending-policy/policy.ts).
 */
export function callLimitsAfterHold(limits: CallLimits, amountMc: number): CallLimits {
  const after: CallLimits = Object.create(ReadCallLimits.prototype);
  return Object.assign(after, limits, {
    heldMc: limits.heldMc + amountMc,
    availableMc: limits.availableMc - amountMc,
    keyInFlight: limits.keyInFlight === null ? null : { ...limits.keyInFlight, current: limits.keyInFlight.current + 1 },
    userInFlight: limits.userInFlight + 1,
  });
}

/**
 * The limits as readCallLimits would read them for the same scope after a settle on them: the wallet
 * as the settle left it, and one call fewer in flight when its hold was pending (a hold the sweeper
 * expired was no longer counted).
 */
export function callLimitsAfterSettle(limits: CallLimits, change: SettleChange): CallLimits {
  const after: CallLimits = Object.create(ReadCallLimits.prototype);
  const ended = change.endedPending ? 1 : 0;
  return Object.assign(after, limits, {
    balanceMc: change.balanceAfterMc,
    heldMc: change.heldAfterMc,
    availableMc: change.balanceAfterMc - change.heldAfterMc,
    promoMc: change.promoAfterMc,
    keyInFlight: limits.keyInFlight === null ? null : { ...limits.keyInFlight, current: limits.keyInFlight.current - ended },
    userInFlight: limits.userInFlight - ended,
  });
}

export async function readCallLimits(trx: Trx, scope: WriteScope): Promise<CallLimits> {
  const row = await rawFirst<Row>(trx, READ_LIMITS, [scope.model ?? '', scope.apiKeyId ?? -1, scope.userId]);
  if (!row) throw new Error(`user ${scope.userId} has no wallet`);
  return new ReadCallLimits(row, scope);
}

/**
 * The ledger hands its policy's state on as a WalletState (a hold's amountFor): this narrows it back,
 * and throws when it is not what readCallLimits built (another policy is installed, or none read it).
 */
export function asCallLimits(state: WalletState): CallLimits {
  if (state instanceof ReadCallLimits) return state;
  throw new TypeError('this wallet state was not read by readCallLimits: is the spending policy installed? (src/spending-policy/policy.ts)');
}
