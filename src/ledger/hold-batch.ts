// Grouped holds: the wallet is locked (by the group) and read, the amount decided and the hold placed
// in one transaction, and holds asked for in the same turn of the event loop share that transaction's
// commit (no fsync: a hold dies with its call if the process dies; an auto-recharge the hold started
// is made durable by the recharge worker's first write, a FULL commit, before any payment: see
// db/transaction.ts).
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Hold } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { InsufficientCreditsError } from './errors.ts';
import { createGroupCommit, type BatcherOptions, type GroupCommit } from './group-commit.ts';
import { placeHoldIn, type PlaceHoldInput } from './holds.ts';
import { groupStateFor } from './group-state.ts';
import { ledgerPolicy, type WalletState } from './policy.ts';

export interface HoldRequest extends Omit<PlaceHoldInput, 'amountMc'> {
  /**
   * The amount to hold, decided from the state the policy read inside the hold's own transaction
   * (the wallet, and whatever else the policy reads: so no other call can take the credits in
   * between). Throw to refuse: nothing is written. It may run more than once (see GroupWork), so it
   * only computes.
   */
  amountFor(state: WalletState, trx: Trx): number | Promise<number>;
}

export interface HoldBatcher {
  /** Resolves with the hold once its commit is done; rejects with whatever amountFor threw. */
  place(request: HoldRequest): Promise<Hold>;
  idle(): Promise<void>;
  readonly stats: GroupCommit['stats'];
}

type Placed = { hold: Hold } | { refused: unknown };

export function createHoldBatcher(db: DB, clock: Clock, options: BatcherOptions = {}): HoldBatcher {
  const group = createGroupCommit(db, clock, { ...options, durable: false, lockWallets: (users) => ({ users }) });
  return {
    stats: group.stats,
    idle: () => group.idle(),
    async place(request) {
      const placed = await group.run<Placed>(request.userId, async (trx, nowMs) => {
        // Read once per wallet and scope in a group; refusals below write nothing, so the state stays.
        const { state, after } = await groupStateFor(trx, { userId: request.userId, apiKeyId: request.apiKeyId, model: request.rate.model });
        let amountMc: number;
        try {
          amountMc = await request.amountFor(state, trx);
        } catch (refused) {
          // Refused before writing anything: the rest of the group carries on.
          return { refused };
        }
        try {
          const hold = await placeHoldIn(trx, nowMs, { ...request, amountMc }, state);
          after(ledgerPolicy().stateAfterHold?.(state, amountMc) ?? null);
          return { hold };
        } catch (error) {
          // The conditional update changed nothing, so this refusal wrote nothing either; the state
          // promised more than the wallet had, so the next hold reads it again.
          if (error instanceof InsufficientCreditsError) {
            after(null);
            return { refused: error };
          }
          throw error;
        }
      });
      if ('refused' in placed) throw placed.refused;
      return placed.hold;
    },
  };
}
