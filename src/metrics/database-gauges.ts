// Gauges read from the database when /metrics is scraped, so every process shows the same numbers:
// pending holds and the oldest's age, mail due and the oldest due mail's age, the oldest due recharge,
// and how long ago each singleton job last ran; and the credits counters, summed from the ledger's
// entries that are not calls (migration 0018's partial index), so credits a purchase, a recharge, the
// console, the CLI or a promo code added in any process are counted, each once. Each is one aggregate over an index (pending holds,
// mail_outbox_due) or a table of a few rows (job_leases, pending recharges: one a user at most); the
// workers' backlog is src/jobs/worker-runs.ts's, which the console's health page shows too.
import { sql } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { workerBacklog } from '../jobs/worker-runs.ts';

/** A singleton job and its interval: its lease is taken for one interval at the start of each run (src/jobs/singleton.ts). */
export interface JobInterval {
  name: string;
  everyMs: number;
}

export interface DatabaseGauges {
  /** Reads them all; call before rendering the registry. */
  refresh(): Promise<void>;
}

function ageSeconds(nowMs: number, sinceMs: unknown): number {
  return sinceMs === null || sinceMs === undefined ? 0 : Math.max(0, (nowMs - Number(sinceMs)) / 1000);
}

export function databaseGauges(registry: Registry, db: DB, clock: Clock, jobs: readonly JobInterval[]): DatabaseGauges {
  const registers = [registry];
  const holdsPending = new Gauge({ name: 'tokentab_holds_pending', help: 'Holds not yet settled, voided or expired (all processes)', registers });
  const oldestHold = new Gauge({ name: 'tokentab_oldest_pending_hold_age_seconds', help: 'Age of the oldest pending hold (0 when none)', registers });
  const mailDue = new Gauge({ name: 'tokentab_mail_due', help: 'Mails due to be sent now (pending, their next attempt reached)', registers });
  const oldestMail = new Gauge({ name: 'tokentab_mail_oldest_due_age_seconds', help: 'How long the longest-waiting due mail has been due (0 when none)', registers });
  const oldestRecharge = new Gauge({ name: 'tokentab_recharge_oldest_due_age_seconds', help: 'How long the longest-waiting pending auto-recharge has been due (0 when none)', registers });
  const jobAge = new Gauge({
    name: 'tokentab_job_last_run_age_seconds',
    help: 'Seconds since a singleton job (hold-sweeper, reconcile) last ran in any process; absent when no process holds its lease',
    labelNames: ['job'] as const,
    registers,
  });

  const credited = new Counter({
    name: 'tokentab_credits_granted_mc_total',
    help: 'Millicredits added to balances other than by calls, by ledger entry type (purchase, auto_recharge, grant from the console or the CLI, adjustment, promo); all processes, since the database began',
    labelNames: ['kind'] as const,
    registers,
  });
  const taken = new Counter({
    name: 'tokentab_credits_taken_mc_total',
    help: 'Millicredits taken from balances other than by calls, by ledger entry type (adjustment, refund, expiry); all processes, since the database began',
    labelNames: ['kind'] as const,
    registers,
  });

  return {
    async refresh() {
      const nowMs = clock.now();
      const [holds, backlog, leases, credits] = await Promise.all([
        db.selectFrom('holds').select((eb) => [eb.fn.countAll().as('count'), eb.fn.min('created_at_ms').as('oldest')]).where('status', '=', 'pending').executeTakeFirstOrThrow(),
        workerBacklog(db, nowMs),
        db.selectFrom('job_leases').select(['name', 'expires_at_ms']).execute(),
        // The predicate is the partial index's own, word for word, so both backends read only that index.
        sql<{ type: string; added_mc: unknown; taken_mc: unknown }>`
          select type, sum(case when amount_mc > 0 then amount_mc else 0 end) as added_mc, sum(case when amount_mc < 0 then -amount_mc else 0 end) as taken_mc
          from ledger_entries where type <> 'usage' group by type`.execute(db),
      ]);
      credited.reset();
      taken.reset();
      for (const row of credits.rows) {
        // Summed from the ledger, so a counter never goes down: entries are never changed or removed.
        if (Number(row.added_mc) > 0) credited.inc({ kind: row.type }, Number(row.added_mc));
        if (Number(row.taken_mc) > 0) taken.inc({ kind: row.type }, Number(row.taken_mc));
      }
      holdsPending.set(Number(holds.count));
      oldestHold.set(ageSeconds(nowMs, holds.oldest));
      mailDue.set(backlog.mailDue);
      oldestMail.set(ageSeconds(nowMs, backlog.mailOldestDueAtMs));
      oldestRecharge.set(ageSeconds(nowMs, backlog.rechargeOldestDueAtMs));
      jobAge.reset();
      for (const job of jobs) {
        const lease = leases.find((row) => row.name === job.name);
        // The lease runs one interval from the start of the run that took or renewed it.
        if (lease) jobAge.set({ job: job.name }, ageSeconds(nowMs, Number(lease.expires_at_ms) - job.everyMs));
      }
    },
  };
}
