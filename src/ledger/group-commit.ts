// Group commit: writes asked for in the same turn of the event loop share one transaction, so many
// concurrent calls pay for one commit (and one fsync, when durable) instead of one each. Each group
// locks every wallet it will change first, in user order (PostgreSQL; docs/architecture.md, Two
// backends), and runs again whole when another transaction's conflict rolls it back.
import type { Clock } from '../clock.ts';
import { conflictRetryDelayMs, CONFLICT_RETRIES, isRetryableConflict } from '../db/conflicts.ts';
import type { DB } from '../db/connect.ts';
import type { WalletLock } from '../db/locks.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';

/**
 * One write of a group, to one user's wallet. It must be safe to run again: when another write of its
 * group fails, or a conflict rolls the group back, the transaction is rolled back and the writes run
 * again in a fresh one. A work that refuses without writing (not enough credits) should return that
 * refusal rather than throw, so the group goes on.
 */
export type GroupWork<R> = (trx: Trx, nowMs: number) => Promise<R>;

export interface GroupCommit {
  /**
   * Runs `work` inside the next group's transaction, which first locks the wallet `walletKey` names
   * (see GroupCommitOptions.lockWallets); resolves once that transaction has committed.
   */
  run<R>(walletKey: number, work: GroupWork<R>): Promise<R>;
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
  /**
   * The wallets the group's writes will change, named by their keys (users, or holds): locked in one
   * statement and in user order, in the round trip that begins the group's transaction, before any
   * write reads one (writeTransaction's lockFirst; nothing on SQLite, where BEGIN IMMEDIATE already
   * serialises the group).
   */
  lockWallets: (walletKeys: number[]) => WalletLock;
  /**
   * Runs in the group's transaction after its writes, with their results in order: work done once per
   * group rather than once per write (the settles' daily rollup). Runs again with the group.
   */
  afterWrites?: (trx: Trx, results: readonly unknown[]) => Promise<void>;
  /** After each committed group, with its number of writes: what the app's metrics read (the ledger keeps none). */
  onCommitted?: (writes: number) => void;
}

/** What a batcher built on a group commit lets its caller set. */
export type BatcherOptions = Pick<GroupCommitOptions, 'alone' | 'onCommitted'>;

/** At most this many writes per transaction, so one commit never holds the write lock long. */
const MAX_GROUP = 256;

interface Pending {
  walletKey: number;
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
export function createGroupCommit(db: DB, clock: Clock, options: GroupCommitOptions): GroupCommit {
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
    let conflicts = 0;
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
            await options.afterWrites?.(trx, results);
          },
          // Every wallet of the group, locked in one statement before any work reads one.
          { durable, lockFirst: options.lockWallets(remaining.map((item) => item.walletKey)) },
        );
      } catch (error) {
        const cause = error instanceof WorkFailed ? error.error : error;
        if (isRetryableConflict(cause) && conflicts < CONFLICT_RETRIES) {
          // Rolled back by another transaction (a deadlock, a serialization failure): no write of the
          // group was at fault, so all of them run again, after a short random wait.
          conflicts++;
          await new Promise((resolve) => setTimeout(resolve, conflictRetryDelayMs(conflicts)));
          continue;
        }
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
      options.onCommitted?.(remaining.length);
      remaining.forEach((item, index) => item.resolve(results[index]));
      return;
    }
  }

  return {
    stats,
    run<R>(walletKey: number, work: GroupWork<R>) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ walletKey, work, resolve: resolve as (result: unknown) => void, reject });
        schedule();
      });
    },
    idle() {
      if (queue.length === 0 && !writing && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
