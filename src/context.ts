// The app's context, built once from the configuration: what every route factory and every worker of
// the server is handed, so the process has one gateway, one payment provider and one log.
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { DB } from './db/connect.ts';
import type { LeaseRef } from './db/leases.ts';
import { createHasher, type Hasher } from './auth/hasher.ts';
import { billingDeps, type BillingDeps } from './billing/deps.ts';
import { createGateway } from './gateway/create.ts';
import type { Gateway } from './gateway/gateway.ts';
import { JOB_NAMES } from './jobs/singleton.ts';
import { installLedgerPolicy } from './ledger/policy.ts';
import { databaseGauges, type DatabaseGauges } from './metrics/database-gauges.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { spendingPolicy } from './spending-policy/policy.ts';

export interface AppContext {
  config: Config;
  db: DB;
  clock: Clock;
  /** One line at a time; never a body, header or key (docs/architecture.md, The parts). */
  log: (line: string) => void;
  hasher: Hasher;
  /** The metered gateway: its in-flight calls are what the server drains on SIGTERM. */
  gateway: Gateway;
  /** This process's lease (null id until the server opens it): the gateway's holds carry its id. */
  lease: LeaseRef;
  /** null with PAYMENTS=off: nothing can be bought. */
  billing: BillingDeps | null;
  /** This process's Prometheus metrics: the HTTP layer and the gateway record through it. */
  metrics: Metrics;
  /** The metrics read from the database at each scrape. */
  metricsGauges: DatabaseGauges;
}

export interface ContextOptions {
  db: DB;
  clock: Clock;
  /** Tests pass a cheaper hasher; production uses OWASP's scrypt cost. */
  hasher?: Hasher;
  /** Default: standard error. */
  log?: (line: string) => void;
  /** Node's process metrics in /metrics: the server's context only. */
  processMetrics?: boolean;
}

export function createContext(config: Config, options: ContextOptions): AppContext {
  // Every ledger write made through this context (routes, gateway, workers) runs the spending policy.
  installLedgerPolicy(spendingPolicy);
  const { db, clock } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const lease: LeaseRef = { id: null };
  const metrics = createMetrics({ processMetrics: options.processMetrics });
  const jobs = [
    { name: JOB_NAMES.sweeper, everyMs: config.sweepEverySeconds * 1000 },
    { name: JOB_NAMES.reconcile, everyMs: config.reconcileEverySeconds * 1000 },
    { name: JOB_NAMES.promoExpiry, everyMs: config.sweepEverySeconds * 1000 },
  ];
  return {
    config,
    db,
    clock,
    log,
    hasher: options.hasher ?? createHasher(),
    gateway: createGateway(config, { db, clock, log, lease, events: metrics.gateway }),
    lease,
    billing: billingDeps(config, db, clock, log),
    metrics,
    metricsGauges: databaseGauges(metrics.registry, db, clock, jobs),
  };
}
