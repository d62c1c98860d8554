// Start-up only: config, database, migrations, seed, the process lease, serve(), background jobs
// (the claim-based workers in every process, the singleton jobs under job leases), and draining on SIGTERM.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { systemClock } from './clock.ts';
import { openDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { seedDefaults } from './seed.ts';
import { createApp, metricsApp } from './app.tsx';
import { createContext } from './context.ts';
import { checkUpstreamModels, describeUpstreamModelCheck } from './gateway/upstream-check.ts';
import { httpServerOptions } from './web/server-options.ts';
import { loadTokenizer } from './gateway/token-count.ts';
import { expireHolds } from './ledger/holds.ts';
import { startMailWorker } from './mail/worker.ts';
import { reconcileRecent, type ReconcileResult } from './billing/reconcile.ts';
import { startRechargeWorker } from './billing/auto-recharge.ts';
import { JOB_NAMES, startSingletonJob } from './jobs/singleton.ts';
import { expirePromoGrants } from './ledger/promo-grants.ts';
import { startProcessLease } from './jobs/process-lease.ts';
import { processHolder } from './jobs/holder.ts';
import { roundRecorder, WORKER_NAMES } from './jobs/worker-runs.ts';

/** Calls in flight get this long to finish on SIGTERM before they are stopped and settled. */
const DRAIN_GRACE_MS = 10_000;

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const db = openDatabase(config.database);
await migrateToLatest(db);
await seedDefaults(db, systemClock);

// Every model UPSTREAMS_FILE routes must be on the rate card; one on the card that nothing serves is a warning.
const upstreamCheck = describeUpstreamModelCheck(config.upstreams, await checkUpstreamModels(db, config.upstreams));
if (upstreamCheck.warning) console.error(upstreamCheck.warning);
if (upstreamCheck.error) {
  console.error(upstreamCheck.error);
  await db.destroy();
  process.exit(1);
}

// One context for the app and the workers: one gateway, one payment provider, one log. Building it
// installs the ledger's policy, before any ledger write (src/ledger/policy.ts).
const ctx = createContext(config, { db, clock: systemClock, processMetrics: true });
const { clock, gateway, billing, log } = ctx;
const app = createApp(ctx);
const holder = processHolder();
// Before the first call: every hold this process places carries its lease, so if it dies another
// process gives the hold back once the lease lapses (src/jobs/process-lease.ts).
const leaseTermMs = config.processLeaseSeconds * 1000;
const processLease = await startProcessLease(db, clock, ctx.lease, { holder, termMs: leaseTermMs, renewEveryMs: Math.floor(leaseTermMs / 5), log });
// Idle keep-alive connections outlive a proxy's own (src/web/server-options.ts).
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: httpServerOptions(config) }, (info) => {
  console.log(`tokentab listening on http://${info.address}:${info.port} (public URL ${config.publicUrl})`);
  // Loaded now rather than before listening (a start ≤ 1 s) or at the first call (which would wait for it).
  setImmediate(loadTokenizer);
});

// METRICS_LISTEN: /metrics alone on an address of its own (a private interface), with METRICS_TOKEN if set.
const metricsServer = config.metricsListen
  ? serve({ fetch: metricsApp(ctx).fetch, port: config.metricsListen.port, hostname: config.metricsListen.host }, (info) => {
      console.log(`metrics on http://${info.address}:${info.port}/metrics`);
    })
  : null;

// Every worker's round is recorded for the console's health page (src/jobs/worker-runs.ts).
const recorded = <T,>(name: string, describe: (result: T) => string) => roundRecorder<T>(db, clock, name, holder, describe, log);
// nodemailer is loaded only when there is mail to send (docs/architecture.md, Start-up and memory).
const mailWorker = startMailWorker(
  db,
  clock,
  { transport: config.smtpUrl ? (await import('nodemailer')).createTransport(config.smtpUrl) : null, from: config.mailFrom, log },
  undefined,
  recorded(WORKER_NAMES.mail, (tried: number) => `${tried} mail(s) tried`),
);

// Once per interval across all processes (README, Running several processes; docs/architecture.md,
// Workers): the sweeper, the last resort for a hold no lease gave back, and reconcile, for purchases a
// missed webhook left uncredited (at start too; none with PAYMENTS=off), and promo expiry, on the
// sweeper's interval (at start too: grants that ended while every process was down). Mail and
// recharges are claimed row by row instead.
const sweeperRound = recorded(JOB_NAMES.sweeper, (expired: number) => `${expired} hold(s) expired`);
const promoRound = recorded(JOB_NAMES.promoExpiry, (expiredMc: number) => `${expiredMc} mc of promo credits expired`);
const reconcileRound = recorded(JOB_NAMES.reconcile, (result: ReconcileResult) => `${result.checked} looked up, ${result.fulfilled.length} credited, ${result.expired.length} expired`);
const sweeper = startSingletonJob(db, clock, { name: JOB_NAMES.sweeper, holder, everyMs: config.sweepEverySeconds * 1000, log }, () => sweeperRound(() => expireHolds(db, clock)));
const promoExpiry = startSingletonJob(db, clock, { name: JOB_NAMES.promoExpiry, holder, everyMs: config.sweepEverySeconds * 1000, atStart: true, log }, () => promoRound(() => expirePromoGrants(db, clock)));
const reconciler = billing
  ? startSingletonJob(db, clock, { name: JOB_NAMES.reconcile, holder, everyMs: config.reconcileEverySeconds * 1000, atStart: true, log }, () => reconcileRound(() => reconcileRecent(billing)))
  : null;
const recharger = billing ? startRechargeWorker(billing, undefined, recorded(WORKER_NAMES.recharge, (outcomes: unknown[]) => `${outcomes.length} recharge(s) attempted`)) : null;

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: no longer accepting connections; draining`);
  const jobsStopped = Promise.all([sweeper.stop(), promoExpiry.stop(), reconciler?.stop()]);
  // A last resort only: the drain below ends every call well within it.
  setTimeout(() => process.exit(1), DRAIN_GRACE_MS + 10_000).unref();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  metricsServer?.close();
  // Calls in flight finish, or after 10 s are stopped and settled as aborted: no hold is left for the sweeper.
  const drained = await gateway.inFlight.drain(DRAIN_GRACE_MS);
  console.log(`drained: ${drained.finished} calls finished, ${drained.stopped} stopped and settled as aborted`);
  // Give the last answers a moment to leave, then close connections still open (idle keep-alives).
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 500))]);
  if ('closeAllConnections' in server) server.closeAllConnections();
  await recharger?.stop();
  await mailWorker.stop();
  await jobsStopped;
  // Drained: nothing of this process is pending, so its lease goes now rather than lapse.
  await processLease.stop();
  await db.destroy();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
