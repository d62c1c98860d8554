// What follows a change of balance, inside the same transaction: the low-balance alert (one email
// per crossing, re-armed at or above the threshold, not while a recharge is pending) and the start
// of an auto-recharge (a pending row now; the payment itself after commit, by the recharge worker).
import type { Trx } from '../db/transaction.ts';
import { queueMail } from '../mail/outbox.ts';
import { rawFirst } from '../db/raw.ts';
import { creditsText } from '../pricing/format.ts';
import { startRechargeIfDue } from './auto-recharge-trigger.ts';

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

async function hasPendingRecharge(trx: Trx, userId: number): Promise<boolean> {
  const row = await trx.selectFrom('auto_recharges').select('id').where('user_id', '=', userId).where('status', '=', 'pending').executeTakeFirst();
  return row !== undefined;
}

async function lowBalanceAlert(trx: Trx, change: BalanceChange): Promise<void> {
  if (change.balanceAfterMc === change.balanceBeforeMc) return;
  const user = (await rawFirst<{ email: string; low_balance_threshold_mc: number; low_balance_alerted: number }>(
    trx,
    'select email, low_balance_threshold_mc, low_balance_alerted from users where id = ?',
    [change.userId],
  ))!;
  const thresholdMc = user.low_balance_threshold_mc;
  // Most writes neither cross nor re-arm: nothing more to read or write.
  if (thresholdMc <= 0 || (change.balanceAfterMc >= thresholdMc && user.low_balance_alerted === 0)) return;
  if (change.balanceAfterMc >= thresholdMc) {
    if (user.low_balance_alerted === 1) await trx.updateTable('users').set({ low_balance_alerted: 0 }).where('id', '=', change.userId).execute();
    return;
  }
  const crossed = change.balanceBeforeMc >= thresholdMc && user.low_balance_alerted === 0;
  if (!crossed || (await hasPendingRecharge(trx, change.userId))) return;
  await trx.updateTable('users').set({ low_balance_alerted: 1 }).where('id', '=', change.userId).execute();
  await queueMail(trx, change.nowMs, {
    to: user.email,
    subject: 'Your tokentab balance is running low',
    text: `Your balance is now ${creditsText(change.balanceAfterMc)} credits, below the ${creditsText(thresholdMc)} credits you asked to be told about.\n\nAdd credits on the Credits tab so your calls keep running. You can change this alert in your billing settings.\n`,
  });
}

export async function afterBalanceChange(trx: Trx, change: BalanceChange): Promise<void> {
  if (change.cause !== 'ledger') await startRechargeIfDue(trx, change.userId, change.availableAfterMc, change.nowMs);
  await lowBalanceAlert(trx, change);
}
