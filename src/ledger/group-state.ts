// The policy's state of each wallet a group transaction writes (holds or settles: hold-batch.ts,
// settle-batch.ts), read once per wallet and scope and then carried from write to write: the wallet
// is locked for the whole transaction, so only the group's own writes change it, and each write
// hands on what it changed (the policy's stateAfterHold or stateAfterSettle). A write whose hooks
// changed something the state holds (a recharge started, an alert's flag) hands on null, and the
// next write of that wallet reads again; so does a write of another scope (key, model) of the wallet.
import type { Trx } from '../db/transaction.ts';
import { ledgerPolicy, type WalletState, type WriteScope } from './policy.ts';

/** The state for a write, and `after`: what became of it (the state after the write, or null: read again). */
export interface GroupRead {
  state: WalletState;
  after(next: WalletState | null): void;
}

/** How a write gets its state: read in its own transaction, or carried in a group's (groupStateFor). */
export type StateReader = (trx: Trx, scope: WriteScope) => Promise<GroupRead>;

/** A fresh read each time: a write alone in its transaction. */
export const readStateAlone: StateReader = async (trx, scope) => ({ state: await ledgerPolicy().readState(trx, scope), after() {} });

/**
 * By transaction (a group run again after a conflict gets a new one, and reads again), then by user:
 * one entry per user, so a write for another scope of the wallet replaces it.
 */
const readInGroup = new WeakMap<Trx, Map<number, { scope: string; state: WalletState }>>();

/** The state for `scope` in the group transaction `trx`: carried from the group's last write of that scope, or read. */
export const groupStateFor: StateReader = async (trx, scope) => {
  let states = readInGroup.get(trx);
  if (!states) readInGroup.set(trx, (states = new Map()));
  const key = `${scope.apiKeyId ?? ''}\u0000${scope.model ?? ''}`;
  const carried = states.get(scope.userId);
  const state = carried?.scope === key ? carried.state : await ledgerPolicy().readState(trx, scope);
  states.set(scope.userId, { scope: key, state });
  return {
    state,
    after(next) {
      if (next === null) states.delete(scope.userId);
      else states.set(scope.userId, { scope: key, state: next });
    },
  };
};
