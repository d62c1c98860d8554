// What every step of a metered call reads: the database and clock, the upstream client, the hold
// and settle batchers, the limits from the configuration, and the log. The Gateway builds it once.
import type OpenAI from 'openai';
import type { Clock } from '../clock.ts';
import type { RoundingMode } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { LeaseRef } from '../db/leases.ts';
import type { HoldBatcher } from '../ledger/hold-batch.ts';
import type { SettleBatcher } from '../ledger/settle-batch.ts';

export interface Metering {
  db: DB;
  clock: Clock;
  client: OpenAI;
  holds: HoldBatcher;
  settler: SettleBatcher;
  roundingMode: RoundingMode;
  holdTtlMs: number;
  /** The overall deadline of an upstream call, body included. */
  upstreamTimeoutMs: number;
  /** The operator's upstream key, only so it can be kept out of anything passed on. */
  operatorKey: string | null;
  /** Calls one user may have in flight, over all their keys and the playground. */
  maxInFlightPerUser: number;
  /** The process lease this process's holds are placed under; none in tools and most tests. */
  lease?: LeaseRef;
  log: (line: string) => void;
}
