// Jobs that must run once per interval across all processes on one database (the hold sweeper,
// reconcile): each process ticks every interval, and a tick runs the job only in the process that
// holds the job's lease (src/db/leases.ts), taken for one interval. The holder renews it on its own
// next tick; if it dies, the lease lapses after that interval and another process's tick takes it.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { dropJobLease, takeJobLease } from '../db/leases.ts';

/** The singleton jobs' lease names: the server starts them, the metrics read their leases. */
export const JOB_NAMES = { sweeper: 'hold-sweeper', reconcile: 'reconcile', promoExpiry: 'promo-expiry' } as const;

export interface SingletonJobOptions {
  /** The lease's name, one per job. */
  name: string;
  /** This process's holder name (processHolder()). */
  holder: string;
  everyMs: number;
  /** Also tick once at start (reconcile: a purchase missed while every process was down). */
  atStart?: boolean;
  log: (line: string) => void;
}

export interface SingletonJob {
  /** Runs a tick now, as the timer would: resolves with whether this process ran the job. */
  tick(): Promise<boolean>;
  /** Stops ticking, waits for a run in progress and gives the lease back. */
  stop(): Promise<void>;
}

export function startSingletonJob(db: DB, clock: Clock, options: SingletonJobOptions, job: () => Promise<unknown>): SingletonJob {
  let running: Promise<boolean> | null = null;
  let stopped = false;
  const attempt = async (): Promise<boolean> => {
    // The lease runs one interval from now: the holder's next tick renews it before anyone else's can take it.
    if (!(await takeJobLease(db, options.name, options.holder, clock.now(), options.everyMs))) return false;
    await job();
    return true;
  };
  const tick = (): Promise<boolean> => {
    // A run still going when the next is due is not doubled.
    if (stopped || running) return Promise.resolve(false);
    running = attempt()
      .catch((error: Error) => {
        options.log(`${options.name}: ${error.message}`);
        return false;
      })
      .finally(() => (running = null));
    return running;
  };
  if (options.atStart) void tick();
  const timer = setInterval(tick, options.everyMs);
  timer.unref();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await dropJobLease(db, options.name, options.holder).catch(() => {});
    },
  };
}
