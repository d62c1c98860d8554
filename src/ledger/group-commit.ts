// Group commit: writes asked for in the same turn of the event loop share one transaction, so many
// concurrent calls pay for one commit (and one fsync, when durable) instead of one each.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';

/**
 * One write of a group. It must be safe to run again: when another write of its group fails, the
 * transaction is rolled back and the others run again in a fresh one. A work that refuses without
 * writing (not enough credits) should return that refusal rather than throw, so the group goes on.
 */
export type GroupWork<R> = (trx: Trx, nowMs: number) => Promise<R>;

export interface GroupCommit {
  /** Runs `work` inside the next group's transaction; resolves once that transaction has committed. */
  run<R>(work: GroupWork<R>): Promise<R>;
  /** Resolves when every write asked for so far has been committed (or has failed). */
  idle(): Promise<void>;
  /** Transactions committed, writes committed in them, and the largest group: for tests and the benchmark. */
  readonly stats: { commits: number; writes: number; largestGroup: number };
}

export interface GroupCommitOptions {
  /** false: commit without fsync (writeTransaction's durable: false). Default true. */
  durable?: boolean;
  /**
   * True when no other write can be on its way (one call in flight): the write then starts at once
   * instead of waiting for the end of the event loop's turn, which only pays when there is a group.
   */
  alone?: () => boolean;
}

/** At most this many writes per transaction, so one commit never holds the write lock long. */
const MAX_GROUP = 256;

interface Pending {
  work: GroupWork<unknown>;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/** Marks which write of a group threw, so the rest can be retried without it. */
class WorkFailed extends Error {
  constructor(
    readonly item: Pending,
    readonly error: unknown,
  ) {
    super('a write of the group failed');
  }
}

/**
 * The group starts from setImmediate, after the I/O callbacks of the current turn (other calls'
 * requests and upstream answers) have queued their writes, or at once when the write is alone. A write
 * asked for while a group is being written goes into the next one. No write's promise resolves
 * before the commit that holds it. Writes that throw are rare (a hold that already ended), so they
 * cost a retry rather than a savepoint around every write.
 */
export function createGroupCommit(db: DB, clock: Clock, options: GroupCommitOptions = {}): GroupCommit {
  const durable = options.durable ?? true;
  const stats = { commits: 0, writes: 0, largestGroup: 0 };
  const queue: Pending[] = [];
  const idleWaiters: (() => void)[] = [];
  let scheduled = false;
  let writing = false;

  function schedule() {
    if (scheduled || writing) return;
    if (options.alone?.()) return start();
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      start();
    });
  }

  function start() {
    writing = true;
    void writeGroup(queue.splice(0, MAX_GROUP)).finally(() => {
      writing = false;
      if (queue.length > 0) schedule();
      else for (const wake of idleWaiters.splice(0)) wake();
    });
  }

  async function writeGroup(group: Pending[]): Promise<void> {
    let remaining = group;
    while (remaining.length > 0) {
      const results: unknown[] = [];
      try {
        await writeTransaction(
          db,
          async (trx) => {
            const nowMs = clock.now();
            for (const item of remaining) {
              try {
                results.push(await item.work(trx, nowMs));
              } catch (error) {
                throw new WorkFailed(item, error);
              }
            }
          },
          { durable },
        );
      } catch (error) {
        if (!(error instanceof WorkFailed)) {
          // The commit itself failed: nothing of the group was written, and every caller hears so.
          for (const item of remaining) item.reject(error);
          return;
        }
        error.item.reject(error.error);
        remaining = remaining.filter((item) => item !== error.item);
        continue;
      }
      stats.commits++;
      stats.writes += remaining.length;
      stats.largestGroup = Math.max(stats.largestGroup, remaining.length);
      remaining.forEach((item, index) => item.resolve(results[index]));
      return;
    }
  }

  return {
    stats,
    run<R>(work: GroupWork<R>) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (result: unknown) => void, reject });
        schedule();
      });
    },
    idle() {
      if (queue.length === 0 && !writing && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
