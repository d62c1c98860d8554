// The balance card's projected run-out: how many whole days the balance lasts at the last 7 days'
// rate of spend, from the daily rollup (seven days' rows, never the usage history).
import type { DB } from '../db/connect.ts';
import { DAY_MS, utcDay } from '../month.ts';
import { usageSummary } from './usage-summary.ts';

export const RUN_OUT_WINDOW_DAYS = 7;

/**
 * Whole days a balance lasts at `spentMc` per RUN_OUT_WINDOW_DAYS days, rounded down (never
 * promising a day it does not have); null when nothing was spent or there is no balance to last.
 */
export function runOutDays(balanceMc: number, spentMc: number): number | null {
  if (spentMc <= 0 || balanceMc <= 0) return null;
  // balance ÷ (spent ÷ 7) in integers: exact, no float rounding at the edges, whatever the balance.
  return Number((BigInt(balanceMc) * BigInt(RUN_OUT_WINDOW_DAYS)) / BigInt(spentMc));
}

/** The last 7 UTC days, today included, charged on this user's account. */
export async function recentSpendMc(db: DB, userId: number, nowMs: number): Promise<number> {
  const { total } = await usageSummary(db, userId, { fromDay: utcDay(nowMs - (RUN_OUT_WINDOW_DAYS - 1) * DAY_MS), toDay: utcDay(nowMs), model: null, key: null }, []);
  return total.chargedMc;
}
