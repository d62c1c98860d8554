// Each background worker's last round (migration 0018's worker_runs): when it started and ended, in
// which process, ok or failed, and what it did — written after every round, so the health page shows a
// worker that stopped (an old round), one that fails (its error) and one that works (its last ok).
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { WorkerRun } from '../db/schema.ts';

/** The workers' names in worker_runs: the singleton jobs keep their lease names (JOB_NAMES). */
export const WORKER_NAMES = { mail: 'mail-sender', recharge: 'auto-recharge' } as const;

const MAX_DETAIL_CHARS = 300;

/**
 * Wraps a worker's round: runs it, records it, and answers (or throws) what the round did. A recorder for the worker `name` in this process (`holder`, processHolder()). `describe` words
 * what a round answered ("3 tried"). A record that fails to write is logged, never the round's failure.
 */
export function roundRecorder<T>(db: DB, clock: Clock, name: string, holder: string, describe: (result: T) => string, log: (line: string) => void) {
  return async (round: () => Promise<T>): Promise<T> => {
    const startedMs = clock.now();
    let outcome: 'ok' | 'failed' = 'ok';
    let detail = '';
    try {
      const result = await round();
      detail = describe(result);
      return result;
    } catch (error) {
      outcome = 'failed';
      detail = (error as Error).message.split('\n')[0]!;
      throw error;
    } finally {
      const finishedMs = clock.now();
      const values = { holder, started_at_ms: startedMs, finished_at_ms: finishedMs, outcome, detail: detail.slice(0, MAX_DETAIL_CHARS) };
      await db
        .insertInto('worker_runs')
        .values({ name, ...values, last_ok_at_ms: outcome === 'ok' ? finishedMs : null })
        .onConflict((oc) => oc.column('name').doUpdateSet(outcome === 'ok' ? { ...values, last_ok_at_ms: finishedMs } : values))
        .execute()
        .catch((error: Error) => log(`${name}: its round was not recorded (${error.message})`));
    }
  };
}

export async function workerRuns(db: DB): Promise<WorkerRun[]> {
  const rows = await db.selectFrom('worker_runs').selectAll().orderBy('name').execute();
  return rows.map((r) => ({ ...r, started_at_ms: Number(r.started_at_ms), finished_at_ms: Number(r.finished_at_ms), last_ok_at_ms: r.last_ok_at_ms === null ? null : Number(r.last_ok_at_ms) }));
}

/** How far behind the row-claiming workers are: the longest-waiting due mail's and recharge's due times (null when none is due). */
export interface WorkerBacklog {
  mailDue: number;
  mailOldestDueAtMs: number | null;
  rechargeOldestDueAtMs: number | null;
}

/** Read by /metrics (its lag gauges) and the health page: one aggregate each over the due rows. */
export async function workerBacklog(db: DB, nowMs: number): Promise<WorkerBacklog> {
  const [mail, recharge] = await Promise.all([
    db
      .selectFrom('mail_outbox')
      .select((eb) => [eb.fn.countAll().as('count'), eb.fn.min('next_attempt_at_ms').as('oldest')])
      .where('status', '=', 'pending')
      .where('next_attempt_at_ms', '<=', nowMs)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('auto_recharges')
      .select((eb) => eb.fn.min('next_attempt_at_ms').as('oldest'))
      .where('status', '=', 'pending')
      .where('next_attempt_at_ms', '<=', nowMs)
      .executeTakeFirstOrThrow(),
  ]);
  const ms = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return { mailDue: Number(mail.count), mailOldestDueAtMs: ms(mail.oldest), rechargeOldestDueAtMs: ms(recharge.oldest) };
}
