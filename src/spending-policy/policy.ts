// The app's policy around every ledger write (src/ledger/policy.ts): the one-statement read of a
// user's limits, then, in the same transaction, the auto-recharge trigger and the low-balance alert
// after a change of balance, and the cap notices after a settle. Installed once per process where the
// app is put together (src/server.ts, src/cli/run.ts, the test and bench entry points).
import type { LedgerPolicy } from '../ledger/policy.ts';
import { lowBalanceAlert } from '../alerts/low-balance.ts';
import { startRechargeIfDue } from '../auto-recharge/trigger.ts';
import { noticeCapsReached } from '../caps/cap-notices.ts';
import { callLimitsAfterHold, callLimitsAfterSettle, readCallLimits, type CallLimits } from './call-limits.ts';

/**
 * Limits whose write's hooks changed what they hold (a recharge started: rechargePending; the alert's
 * flag set or cleared: lowBalance.alerted), so the group's next write of the wallet reads again.
 */
const changedByHooks = new WeakSet<CallLimits>();

export const spendingPolicy: LedgerPolicy<CallLimits> = {
  readState: readCallLimits,

  async afterBalanceChange(trx, change, limits) {
    // Holds and settles may start a recharge; credits and debits from outside a call may not.
    const started = change.cause === 'ledger' ? null : await startRechargeIfDue(trx, change.userId, change.availableAfterMc, change.nowMs, limits);
    // limits.rechargePending was read before this change: a recharge it started is pending too.
    const alertChanged = await lowBalanceAlert(trx, change, limits.lowBalance, limits.rechargePending || started !== null);
    if (started !== null || alertChanged) changedByHooks.add(limits);
  },

  afterSettle(trx, call, limits) {
    return noticeCapsReached(trx, call.nowMs, call, call.holdPlacedAtMs, limits.caps);
  },

  // A hold changes no balance, so the low-balance alert wrote nothing; a recharge it started would be.
  stateAfterHold(limits, amountMc) {
    return changedByHooks.has(limits) ? null : callLimitsAfterHold(limits, amountMc);
  },

  // The cap notices write notices and mail only, nothing the limits hold.
  stateAfterSettle(limits, change) {
    return changedByHooks.has(limits) ? null : callLimitsAfterSettle(limits, change);
  },
};
