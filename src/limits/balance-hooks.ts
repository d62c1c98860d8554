// What follows a change of balance, inside the same transaction: the low-balance alert (one email
// per crossing, re-armed at or above the threshold, not while a recharge is pending) and the start
// of an auto-recharge (a pending row now; the payment itself after commit, by the recharge worker).
import type { Trx } from '../db/transaction.ts';
import { queueMail } from '../mail/outbox.ts';
import { creditsExactText } from '../money-text.ts';
import { startRechargeIfDue } from './auto-recharge-trigger.ts';
import type { CallLimits } from './call-limits.ts';

export interface BalanceChange {
  userId: number;
  nowMs: number;
  balanceBeforeMc: number;
  balanceAfterMc: number;
  /** balance − held after the change. */
  availableAfterMc: number;
  /** Holds and settles can start a recharge; credits and debits from outside cannot. */
  cause: 'hold' | 'settle' | 'ledger';
}

/** `rechargePending`: one was pending before this change or was just started by it. */
async function lowBalanceAlert(trx: Trx, change: BalanceChange, state: CallLimits['lowBalance'], rechargePending: boolean): Promise<void> {
  if (change.balanceAfterMc === change.balanceBeforeMc) return;
  const { thresholdMc, alerted } = state;
  // Most writes neither cross nor re-arm: nothing more to read or write.
  if (thresholdMc <= 0 || (change.balanceAfterMc >= thresholdMc && !alerted)) return;
  if (change.balanceAfterMc >= thresholdMc) {
    if (alerted) await trx.updateTable('users').set({ low_balance_alerted: 0 }).where('id', '=', change.userId).execute();
    return;
  }
  const crossed = change.balanceBeforeMc >= thresholdMc && !alerted;
  if (!crossed || rechargePending) return;
  await trx.updateTable('users').set({ low_balance_alerted: 1 }).where('id', '=', change.userId).execute();
  const user = await trx.selectFrom('users').select('email').where('id', '=', change.userId).executeTakeFirstOrThrow();
  await queueMail(trx, change.nowMs, {
    to: user.email,
    subject: 'Your tokentab balance is running low',
    text: `Your balance is now ${creditsExactText(change.balanceAfterMc)} credits, below the ${creditsExactText(thresholdMc)} credits you asked to be told about.\n\nAdd credits on the Credits tab so your calls keep running. You can change this alert in your billing settings.\n`,
  });
}

/** `limits`: read at the start of this write's transaction (readCallLimits), before the change. */
export async function afterBalanceChange(trx: Trx, change: BalanceChange, limits: CallLimits): Promise<void> {
  const started = change.cause === 'ledger' ? null : await startRechargeIfDue(trx, change.userId, change.availableAfterMc, change.nowMs, limits);
  // limits.rechargePending was read before this change: a recharge it started is pending too.
  await lowBalanceAlert(trx, change, limits.lowBalance, limits.rechargePending || started !== null);
}
