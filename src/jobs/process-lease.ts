// This process's lease (src/db/leases.ts): opened before the server takes calls, renewed every
// renewEveryMs, and ended on a clean stop. Each renewal also looks for lapsed leases — processes that
// died (SIGKILL, a crash, a lost machine) or stalled longer than a term — and gives back their pending
// holds, so a dead process's reservations return in seconds instead of at HOLD_TTL_SECONDS.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { endProcessLease, lapsedProcessLeases, openProcessLease, renewProcessLease, type LeaseRef } from '../db/leases.ts';
import { releaseHoldsOfLapsedLease } from '../ledger/holds.ts';

export interface ProcessLeaseOptions {
  holder: string;
  /** How long the lease lasts unrenewed: a process silent this long is taken for dead. */
  termMs: number;
  /** Renewed this often: several times a term, so one slow renewal does not lose it. */
  renewEveryMs: number;
  log: (line: string) => void;
}

export interface ProcessLease {
  /** One renewal and one look for lapsed leases, as the timer does. */
  tick(): Promise<void>;
  /** Stops renewing and ends the lease: call once the process's calls are drained. */
  stop(): Promise<void>;
}

/** Gives back the holds of every lease that lapsed by now; returns how many holds it expired. */
export async function reapLapsedLeases(db: DB, clock: Clock, log: (line: string) => void): Promise<number> {
  let released = 0;
  for (const leaseId of await lapsedProcessLeases(db, clock.now())) {
    const expired = await releaseHoldsOfLapsedLease(db, clock, leaseId);
    if (expired === null) continue;
    if (expired > 0) log(`process lease ${leaseId} lapsed (its process stopped renewing it): ${expired} pending hold(s) given back`);
    released += expired;
  }
  return released;
}

/** Opens the lease and sets `lease.id`, which the gateway's holds carry from then on. */
export async function startProcessLease(db: DB, clock: Clock, lease: LeaseRef, options: ProcessLeaseOptions): Promise<ProcessLease> {
  lease.id = await openProcessLease(db, options.holder, clock.now(), options.termMs);
  let running: Promise<void> | null = null;
  let stopped = false;
  const once = async () => {
    if (stopped || lease.id === null) return;
    if (!(await renewProcessLease(db, lease.id, clock.now(), options.termMs))) {
      // This process went a term without renewing (a stall) and another gave its holds back: its
      // calls still settle and are charged; new holds go under a new lease.
      const lapsed = lease.id;
      lease.id = await openProcessLease(db, options.holder, clock.now(), options.termMs);
      options.log(`process lease ${lapsed} had lapsed and its holds were given back; renewing under lease ${lease.id}`);
    }
    await reapLapsedLeases(db, clock, options.log);
  };
  // One at a time: a tick that finds the last one still going (a slow database) leaves it be.
  const tick = (): Promise<void> => {
    running ??= once()
      .catch((error: Error) => options.log(`process lease: ${error.message}`))
      .finally(() => (running = null));
    return running;
  };
  // Leases that lapsed while no process was up (this one, restarted, among them) go at once.
  void tick();
  const timer = setInterval(tick, options.renewEveryMs);
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
      stopped = true;
      if (lease.id !== null) await endProcessLease(db, lease.id, clock.now());
    },
  };
}
