// Grouped settles: settles asked for in the same turn of the event loop share one durable commit
// (DESIGN §4: settles may be grouped as long as no call is answered before its charge is durable).
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { createGroupCommit, type GroupCommit, type GroupCommitOptions } from './group-commit.ts';
import { settleHoldIn, type CallOutcome, type SettleResult } from './holds.ts';

export interface SettleBatcher {
  /** Settles like settleHold; resolves only once the commit holding this charge is durable. */
  settle(holdId: number, outcome: CallOutcome): Promise<SettleResult>;
  idle(): Promise<void>;
  readonly stats: GroupCommit['stats'];
}

export function createSettleBatcher(db: DB, clock: Clock, options: Omit<GroupCommitOptions, 'durable'> = {}): SettleBatcher {
  const group = createGroupCommit(db, clock, { ...options, durable: true });
  return {
    stats: group.stats,
    settle: (holdId, outcome) => group.run((trx, nowMs) => settleHoldIn(trx, nowMs, holdId, outcome)),
    idle: () => group.idle(),
  };
}
