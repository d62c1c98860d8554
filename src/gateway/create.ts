// Builds the gateway from the configuration: the upstream client (or the demo model), rounding and TTLs.
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { LeaseRef } from '../db/leases.ts';
import { Gateway } from './gateway.ts';
import { createUpstreamClient } from './upstream.ts';

export interface GatewayDeps {
  db: DB;
  clock: Clock;
  lease?: LeaseRef;
  log?: (line: string) => void;
}

export function createGateway(config: Config, deps: GatewayDeps): Gateway {
  const upstreamTimeoutMs = config.upstreamTimeoutSeconds * 1000;
  return new Gateway({
    db: deps.db,
    clock: deps.clock,
    client: createUpstreamClient({ apiKey: config.openaiApiKey, baseUrl: config.openaiBaseUrl, timeoutMs: upstreamTimeoutMs }),
    roundingMode: config.roundingMode,
    holdTtlMs: config.holdTtlSeconds * 1000,
    upstreamTimeoutMs,
    operatorKey: config.openaiApiKey,
    maxInFlightPerUser: config.maxInFlightPerUser,
    lease: deps.lease,
    log: deps.log,
  });
}
