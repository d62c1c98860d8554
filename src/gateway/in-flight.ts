// The calls holding credits right now: a clean stop lets them finish, then stops the rest and waits
// until each has settled, so no hold is left for the sweeper.
import type { StopReason } from './errors.ts';

export interface InFlightCall {
  requestId: string;
  /** Stops the call; it then settles itself (as aborted) and leaves the registry. */
  stop(reason: StopReason): void;
}

export interface DrainResult {
  /** Calls that ended on their own during the grace period. */
  finished: number;
  /** Calls stopped when the grace period ran out (settled as aborted). */
  stopped: number;
}

export class InFlightCalls {
  private readonly calls = new Set<InFlightCall>();
  private emptyWaiters: (() => void)[] = [];
  private draining = false;

  /** False once a drain has begun: new calls are refused. */
  get accepting(): boolean {
    return !this.draining;
  }

  get size(): number {
    return this.calls.size;
  }

  /** Registers a call; the returned function removes it once its hold has ended. */
  add(call: InFlightCall): () => void {
    this.calls.add(call);
    return () => {
      if (!this.calls.delete(call)) return;
      if (this.calls.size === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    };
  }

  private whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.calls.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.emptyWaiters = this.emptyWaiters.filter((each) => each !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.emptyWaiters.push(wake);
    });
  }

  /**
   * Refuses new calls, waits up to `graceMs` for the running ones, then stops the rest and waits
   * (up to `settleMs`) for them to settle.
   */
  async drain(graceMs: number, settleMs = 5_000): Promise<DrainResult> {
    this.draining = true;
    const before = this.calls.size;
    if (await this.whenEmpty(graceMs)) return { finished: before, stopped: 0 };
    const remaining = [...this.calls];
    for (const call of remaining) call.stop('shutdown');
    await this.whenEmpty(settleMs);
    return { finished: before - remaining.length, stopped: remaining.length };
  }
}
