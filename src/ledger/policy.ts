// What the ledger asks of the app around each write: one read of the user's state at the start of the
// transaction, and hooks that react to what the write changed (alerts, auto-recharge, cap notices).
// The ledger knows only this interface; the app installs the policy once where it is put together
// (docs/architecture.md, "The parts").
import type { Trx } from '../db/transaction.ts';

/** The wallet as read at the start of a write's transaction, once locked and before any write to it. */
export interface WalletState {
  balanceMc: number;
  heldMc: number;
  /** balance − held. */
  availableMc: number;
  /** The part of the balance that is live promo credit (wallets.promo_mc): spent first, never clawed back. */
  promoMc: number;
}

/** Whose write it is: the user, and for a call its key and model. */
export interface WriteScope {
  userId: number;
  /** null: the playground, or a write that is not a call (a purchase, a grant). */
  apiKeyId: number | null;
  /** null for a write that is not a call. */
  model: string | null;
}

export interface BalanceChange {
  userId: number;
  nowMs: number;
  balanceBeforeMc: number;
  balanceAfterMc: number;
  /** balance − held after the change. */
  availableAfterMc: number;
  /** Holds and settles can start a recharge; credits and debits from outside cannot. */
  cause: 'hold' | 'settle' | 'ledger';
}

/** A call whose hold was just settled, in the settle's transaction. */
export interface SettledCall {
  userId: number;
  apiKeyId: number | null;
  model: string;
  /** The hold's created_at_ms: spending counts in the month the hold was placed. */
  holdPlacedAtMs: number;
  nowMs: number;
}

/**
 * `State`: what readState returns; the ledger hands that same object back to the hooks of the same
 * transaction, so a policy may read everything it needs there once (one statement on the hot path).
 */
export interface LedgerPolicy<State extends WalletState = WalletState> {
  /**
   * Called once at the start of each write transaction, after the wallet is locked (src/db/locks.ts) and
   * before any write to it, so what it reads is what the last write to the wallet committed.
   */
  readState(trx: Trx, scope: WriteScope): Promise<State>;
  /** After a change of the balance or of what is available, in the same transaction. */
  afterBalanceChange(trx: Trx, change: BalanceChange, state: State): Promise<void>;
  /** After a settle's usage row and rollup are written, in the same transaction. */
  afterSettle(trx: Trx, call: SettledCall, state: State): Promise<void>;
  /**
   * The state readState would now return for the same scope, after a hold of `amountMc` was placed on
   * `state` (and its hooks ran) in the same transaction; null when the policy cannot tell without
   * reading (a hook wrote something the state holds). Lets a group of holds on one wallet read it
   * once (src/ledger/hold-batch.ts). Optional: without it every hold reads.
   */
  stateAfterHold?(state: State, amountMc: number): State | null;
  /**
   * The same after a settle on `state` (its hooks having run): lets a group of settles on one wallet
   * read it once (src/ledger/settle-batch.ts). Optional: without it every settle reads.
   */
  stateAfterSettle?(state: State, change: SettleChange): State | null;
}

/** What a settle changed in the wallet it was read from. */
export interface SettleChange {
  balanceAfterMc: number;
  heldAfterMc: number;
  promoAfterMc: number;
  /** The hold was pending (not expired by the sweeper): one call fewer in flight. */
  endedPending: boolean;
}

let installed: LedgerPolicy | null = null;

/**
 * Installs the policy every ledger write runs with: once per process, where the app is put together.
 * Installing the same policy again changes nothing; a different one is refused.
 */
export function installLedgerPolicy<State extends WalletState>(policy: LedgerPolicy<State>): void {
  if (installed !== null && installed !== (policy as unknown)) throw new Error('a different ledger policy is already installed');
  // The ledger only ever hands a hook the state this policy's own readState returned in the same
  // transaction, so erasing State here loses nothing.
  installed = policy as unknown as LedgerPolicy;
}

/** The installed policy. Throws when none is: a write without it would drop alerts and notices silently. */
export function ledgerPolicy(): LedgerPolicy {
  if (installed === null) throw new Error('no ledger policy installed: call installLedgerPolicy() where the app is put together (see src/server.ts)');
  return installed;
}
