// What the console's health page reads: pending holds and the oldest, the mail outbox's failures,
// job and process leases, each worker's last round and backlog, and the database's size. Reads only.
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/connect.ts';
import { onPostgres } from '../db/raw.ts';
import type { WorkerRun } from '../db/schema.ts';
import { JOB_NAMES } from '../jobs/singleton.ts';
import { WORKER_NAMES, workerBacklog, workerRuns, type WorkerBacklog } from '../jobs/worker-runs.ts';

export interface Health {
  pendingHolds: number;
  pendingHeldMc: number;
  oldestHoldCreatedAtMs: number | null;
  mailPending: number;
  /** Mails with an error: kept (given up on) or still being retried. */
  mailFailures: { id: number; to_address: string; subject: string; status: string; attempts: number; last_error: string | null; created_at_ms: number }[];
  jobLeases: { name: string; holder: string; expires_at_ms: number }[];
  liveProcessLeases: { id: number; holder: string; started_at_ms: number; expires_at_ms: number }[];
  databaseBytes: number;
  workers: WorkerRun[];
  backlog: WorkerBacklog;
}

/** One worker as the health page lists it: its last round (null: none recorded) and how far behind it is. */
export interface WorkerStatus {
  name: string;
  /** What it does, in a few words. */
  job: string;
  run: WorkerRun | null;
  /** Seconds behind: the longest-waiting due row (mail, recharges) or how long past its interval the next round is (the others); 0 when on time. */
  lagSeconds: number;
}

/**
 * The workers a server runs (src/server.ts), each with its last round and lag. Reconcile and
 * auto-recharge run only with payments on.
 */
export function workerStatuses(health: Health, config: Config, nowMs: number): WorkerStatus[] {
  const runOf = (name: string) => health.workers.find((w) => w.name === name) ?? null;
  const waited = (sinceMs: number | null) => (sinceMs === null ? 0 : Math.max(0, Math.floor((nowMs - sinceMs) / 1000)));
  // A job due every interval is behind by however long its next round is overdue.
  const overdue = (name: string, everySeconds: number) => {
    const run = runOf(name);
    return run === null ? 0 : Math.max(0, Math.floor((nowMs - run.started_at_ms) / 1000) - everySeconds);
  };
  const statuses: WorkerStatus[] = [
    { name: WORKER_NAMES.mail, job: 'sends the mail outbox', run: runOf(WORKER_NAMES.mail), lagSeconds: waited(health.backlog.mailOldestDueAtMs) },
    { name: JOB_NAMES.sweeper, job: `expires holds past their time (every ${config.sweepEverySeconds} s)`, run: runOf(JOB_NAMES.sweeper), lagSeconds: overdue(JOB_NAMES.sweeper, config.sweepEverySeconds) },
    { name: JOB_NAMES.promoExpiry, job: `expires promo credits at their time (every ${config.sweepEverySeconds} s)`, run: runOf(JOB_NAMES.promoExpiry), lagSeconds: overdue(JOB_NAMES.promoExpiry, config.sweepEverySeconds) },
  ];
  if (config.payments !== 'off') {
    statuses.push(
      { name: JOB_NAMES.reconcile, job: `credits purchases a webhook missed (every ${config.reconcileEverySeconds} s)`, run: runOf(JOB_NAMES.reconcile), lagSeconds: overdue(JOB_NAMES.reconcile, config.reconcileEverySeconds) },
      { name: WORKER_NAMES.recharge, job: 'charges saved cards for due auto-recharges', run: runOf(WORKER_NAMES.recharge), lagSeconds: waited(health.backlog.rechargeOldestDueAtMs) },
    );
  }
  return statuses;
}

const MAIL_FAILURES_SHOWN = 20;

async function databaseBytes(db: DB): Promise<number> {
  if (onPostgres(db)) {
    const row = await sql<{ bytes: string | number }>`select pg_database_size(current_database()) as bytes`.execute(db);
    return Number(row.rows[0]!.bytes);
  }
  const count = await sql<{ page_count: number }>`pragma page_count`.execute(db);
  const size = await sql<{ page_size: number }>`pragma page_size`.execute(db);
  return Number(count.rows[0]!.page_count) * Number(size.rows[0]!.page_size);
}

export async function readHealth(db: DB, nowMs: number): Promise<Health> {
  const [holds, mailPending, mailFailures, jobLeases, liveProcessLeases, bytes, workers, backlog] = await Promise.all([
    db
      .selectFrom('holds')
      .select((eb) => [eb.fn.countAll<number>().as('calls'), eb.fn.sum<number>('amount_mc').as('held'), eb.fn.min<number>('created_at_ms').as('oldest')])
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow(),
    db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'in', ['pending', 'sending']).executeTakeFirstOrThrow(),
    db
      .selectFrom('mail_outbox')
      .select(['id', 'to_address', 'subject', 'status', 'attempts', 'last_error', 'created_at_ms'])
      .where((eb) => eb.or([eb('status', '=', 'kept'), eb.and([eb('status', '!=', 'sent'), eb('last_error', 'is not', null)])]))
      .orderBy('id', 'desc')
      .limit(MAIL_FAILURES_SHOWN)
      .execute(),
    db.selectFrom('job_leases').select(['name', 'holder', 'expires_at_ms']).orderBy('name').execute(),
    db.selectFrom('process_leases').select(['id', 'holder', 'started_at_ms', 'expires_at_ms']).where('ended_at_ms', 'is', null).where('expires_at_ms', '>', nowMs).orderBy('id').execute(),
    databaseBytes(db),
    workerRuns(db),
    workerBacklog(db, nowMs),
  ]);
  return {
    pendingHolds: Number(holds.calls),
    pendingHeldMc: Number(holds.held ?? 0),
    oldestHoldCreatedAtMs: holds.oldest === null ? null : Number(holds.oldest),
    mailPending: Number(mailPending.n),
    mailFailures: mailFailures.map((m) => ({ ...m, id: Number(m.id), attempts: Number(m.attempts), created_at_ms: Number(m.created_at_ms) })),
    jobLeases: jobLeases.map((l) => ({ ...l, expires_at_ms: Number(l.expires_at_ms) })),
    liveProcessLeases: liveProcessLeases.map((l) => ({ ...l, id: Number(l.id), started_at_ms: Number(l.started_at_ms), expires_at_ms: Number(l.expires_at_ms) })),
    databaseBytes: bytes,
    workers,
    backlog,
  };
}
