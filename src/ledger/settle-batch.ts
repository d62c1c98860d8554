// Grouped settles: settles asked for in the same turn of the event loop share one durable commit
// (docs/architecture.md, Holds: no call is answered before its charge is durable).
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { createGroupCommit, type BatcherOptions, type GroupCommit } from './group-commit.ts';
import type { Hold } from '../db/schema.ts';
import { settleHoldIn, type CallOutcome, type SettleResult } from './holds.ts';
import { addToDailyUsage } from './daily-usage.ts';
import { groupStateFor } from './group-state.ts';

export interface SettleBatcher {
  /** Settles like settleHold; resolves only once the commit holding this charge is durable. `placed`: see settleHoldIn. */
  settle(holdId: number, outcome: CallOutcome, placed?: Hold): Promise<SettleResult>;
  idle(): Promise<void>;
  readonly stats: GroupCommit['stats'];
}

export function createSettleBatcher(db: DB, clock: Clock, options: BatcherOptions = {}): SettleBatcher {
  // Keyed by the hold: the group locks each hold's wallet, whether or not the caller has the hold.
  // The group's usage rows go to the daily rollup together: one upsert per user, day, model, key and endpoint.
  const group = createGroupCommit(db, clock, {
    ...options,
    durable: true,
    lockWallets: (holds) => ({ holds }),
    afterWrites: (trx, results) => addToDailyUsage(trx, (results as SettleResult[]).map((result) => result.usage)),
  });
  return {
    stats: group.stats,
    // The policy's read taken once per wallet and scope in a group, then carried (group-state.ts).
    settle: (holdId, outcome, placed) => group.run(holdId, (trx, nowMs) => settleHoldIn(trx, nowMs, holdId, outcome, placed, groupStateFor)),
    idle: () => group.idle(),
  };
}
