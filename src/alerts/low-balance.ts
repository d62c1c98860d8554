// The low-balance alert, in the transaction of the change that crosses the threshold: one email per
// crossing, re-armed at or above the threshold, none while a recharge is pending.
import type { Trx } from '../db/transaction.ts';
import type { BalanceChange } from '../ledger/policy.ts';
import { queueMail } from '../mail/outbox.ts';
import { creditsProseText, creditsRoundedDownText } from '../money-text.ts';

/** The user's threshold (0: off) and whether the alert was sent since the balance was last above it. */
export interface LowBalanceState {
  thresholdMc: number;
  alerted: boolean;
}

/**
 * `state`: as read before the change. `rechargePending`: one was pending before this change or was
 * just started by it. True when it changed the alert's flag (sent, or re-armed): `state` is stale.
 */
export async function lowBalanceAlert(trx: Trx, change: BalanceChange, state: LowBalanceState, rechargePending: boolean): Promise<boolean> {
  if (change.balanceAfterMc === change.balanceBeforeMc) return false;
  const { thresholdMc, alerted } = state;
  // Most writes neither cross nor re-arm: nothing more to read or write.
  if (thresholdMc <= 0 || (change.balanceAfterMc >= thresholdMc && !alerted)) return false;
  if (change.balanceAfterMc >= thresholdMc) {
    if (!alerted) return false;
    await trx.updateTable('users').set({ low_balance_alerted: 0 }).where('id', '=', change.userId).execute();
    return true;
  }
  const crossed = change.balanceBeforeMc >= thresholdMc && !alerted;
  if (!crossed || rechargePending) return false;
  await trx.updateTable('users').set({ low_balance_alerted: 1 }).where('id', '=', change.userId).execute();
  const user = await trx.selectFrom('users').select('email').where('id', '=', change.userId).executeTakeFirstOrThrow();
  await queueMail(trx, change.nowMs, {
    to: user.email,
    subject: 'Your tokentab balance is running low',
    text: `Your balance is now ${creditsRoundedDownText(change.balanceAfterMc)} credits, below the ${creditsProseText(thresholdMc)} credits you asked to be told about.\n\nAdd credits on the Credits tab so your calls keep running. You can change this alert in your billing settings.\n`,
  });
  return true;
}
