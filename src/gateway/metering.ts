// What every step of a metered call reads: the database and clock, the upstreams, the hold
// and settle batchers, the limits from the configuration, and the log. The Gateway builds it once.
import type { Clock } from '../clock.ts';
import type { RoundingMode } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { LeaseRef } from '../db/leases.ts';
import type { HoldBatcher } from '../ledger/hold-batch.ts';
import type { SettleBatcher } from '../ledger/settle-batch.ts';
import type { GatewayEvents } from './events.ts';
import type { ImageSizer } from './image-source.ts';
import type { UpstreamPool } from './upstream-pool.ts';

export interface Metering {
  db: DB;
  clock: Clock;
  /** Where each model's calls go, in failover order. */
  upstreams: UpstreamPool;
  holds: HoldBatcher;
  settler: SettleBatcher;
  roundingMode: RoundingMode;
  holdTtlMs: number;
  /** The overall deadline of an upstream call, body included. */
  upstreamTimeoutMs: number;
  /** The upstreams' keys, only so they can be kept out of anything passed on. */
  secrets: readonly string[];
  /** Calls one user may have in flight, over all their keys and the playground. */
  maxInFlightPerUser: number;
  /** Reads the sizes of prompts' images (data URLs, fetched URLs) for the hold. */
  images: ImageSizer;
  /** The process lease this process's holds are placed under; none in tools and most tests. */
  lease?: LeaseRef;
  log: (line: string) => void;
  /** Told of charges, upstream failures and commits (the app's metrics). */
  events: GatewayEvents;
}
