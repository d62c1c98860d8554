// The process's Prometheus metrics (prom-client, one registry per app context): what the HTTP layer
// records (requests by route pattern, refusals by reason), what the gateway tells (charges, latency,
// upstream failures, group commits: src/gateway/events.ts), and what is read from the database at
// scrape time (database-gauges.ts: the gauges, and the credits counters, which count every process's
// credits from the ledger). The other counters count this process's work since it started.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { GatewayEvents } from '../gateway/events.ts';
import { postgresRoundTrips } from '../db/postgres.ts';

/** Seconds: a call's whole length, from a refused hold's milliseconds to a long stream's minutes. */
const LATENCY_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Millicredits charged per call: 1 mc up to 1,000 credits (1 credit = 1,000 mc). */
const CHARGE_BUCKETS_MC = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];
/** Writes per group commit: up to the group's cap of 256 (src/ledger/group-commit.ts). */
const GROUP_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export interface Metrics {
  readonly registry: Registry;
  /** Handed to the gateway (src/context.ts): it records through these. */
  readonly gateway: GatewayEvents;
  /** One answered HTTP request; `route` is the matched pattern (never the raw path). */
  requestServed(method: string, route: string, status: number): void;
  /** A 402 or 429 answer, by the error code that says why (insufficient_credits, too_many_calls_in_flight…). */
  refused(status: number, reason: string): void;
}

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag): the server's one context only, not every test's. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'tokentab_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const refusals = new Counter({
    name: 'tokentab_refusals_total',
    help: '402 and 429 answers, by status and reason (the error code)',
    labelNames: ['status', 'reason'] as const,
    registers,
  });
  const callDuration = new Histogram({
    name: 'tokentab_call_duration_seconds',
    help: 'Metered calls from start to settle (a stream to its end), by endpoint and status',
    labelNames: ['endpoint', 'status'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers,
  });
  const callCharge = new Histogram({
    name: 'tokentab_call_charge_mc',
    help: 'Millicredits charged per settled call, by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: CHARGE_BUCKETS_MC,
    registers,
  });
  const charged = new Counter({
    name: 'tokentab_charged_mc_total',
    help: 'Millicredits charged for settled calls, by endpoint',
    labelNames: ['endpoint'] as const,
    registers,
  });
  const upstreamFailures = new Counter({
    name: 'tokentab_upstream_failures_total',
    help: 'Failed upstream attempts, by kind (server, timeout, unreachable, rate_limited, rejected, auth, broken, failed)',
    labelNames: ['kind'] as const,
    registers,
  });
  const failovers = new Counter({
    name: 'tokentab_upstream_failovers_total',
    help: 'Upstream attempts that failed and were retried on the next upstream of the model',
    registers,
  });
  const groupWrites = new Histogram({
    name: 'tokentab_group_commit_writes',
    help: 'Writes per committed group of holds or settles',
    labelNames: ['batch'] as const,
    buckets: GROUP_BUCKETS,
    registers,
  });
  new Counter({
    name: 'tokentab_postgres_round_trips_total',
    help: 'Statements sent to PostgreSQL by this process, each one round trip (0 on SQLite)',
    registers,
    collect() {
      this.reset();
      this.inc(postgresRoundTrips());
    },
  });

  return {
    registry,
    gateway: {
      callSettled({ endpoint, status, latencyMs, chargedMc }) {
        callDuration.observe({ endpoint, status }, latencyMs / 1000);
        callCharge.observe({ endpoint }, chargedMc);
        charged.inc({ endpoint }, chargedMc);
      },
      upstreamFailed(kind, failedOver) {
        upstreamFailures.inc({ kind });
        if (failedOver) failovers.inc();
      },
      groupCommitted(batch, writes) {
        groupWrites.observe({ batch }, writes);
      },
    },
    requestServed(method, route, status) {
      requests.inc({ method, route, status: String(status) });
    },
    refused(status, reason) {
      refusals.inc({ status: String(status), reason });
    },
  };
}
