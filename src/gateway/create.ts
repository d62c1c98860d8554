// Builds the gateway from the configuration: the upstreams (or the demo model), rounding and TTLs.
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { LeaseRef } from '../db/leases.ts';
import type { GatewayEvents } from './events.ts';
import { Gateway } from './gateway.ts';
import { createImageSizer } from './image-source.ts';
import { UpstreamPool } from './upstream-pool.ts';

export interface GatewayDeps {
  db: DB;
  clock: Clock;
  lease?: LeaseRef;
  log?: (line: string) => void;
  events?: GatewayEvents;
}

export function createGateway(config: Config, deps: GatewayDeps): Gateway {
  const upstreamTimeoutMs = config.upstreamTimeoutSeconds * 1000;
  // One for the hold and the demo model alike: the same limits, and one share of fetches in flight.
  const images = createImageSizer({ allowPrivate: config.imageFetchAllowPrivate, timeoutMs: config.imageFetchTimeoutSeconds * 1000 });
  return new Gateway({
    db: deps.db,
    clock: deps.clock,
    upstreams: new UpstreamPool(config.upstreams, upstreamTimeoutMs, images),
    images,
    roundingMode: config.roundingMode,
    holdTtlMs: config.holdTtlSeconds * 1000,
    upstreamTimeoutMs,
    maxInFlightPerUser: config.maxInFlightPerUser,
    lease: deps.lease,
    log: deps.log,
    events: deps.events,
  });
}
