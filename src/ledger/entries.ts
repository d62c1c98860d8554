// Appends to the ledger inside a caller's transaction: the wallet's balance and the entry's
// balance_after move together, so invariant 1 (balance = Σ entries = running sum) holds per write.
import type { LedgerEntry, LedgerEntryType } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { rawInsert, rawInsertOrNothing, rawRun } from '../db/raw.ts';
import { ledgerPolicy, type BalanceChange, type WalletState } from './policy.ts';

export interface NewEntry {
  userId: number;
  type: LedgerEntryType;
  amountMc: number;
  shortfallMc?: number;
  reference: string;
  idempotencyKey: string | null;
  nowMs: number;
  /** A settle gives its hold back in the same wallet update that takes the charge. */
  releaseHeldMc?: number;
  /**
   * How the user's live promo credit moves with this entry (wallets.promo_mc), in the same wallet
   * update: + a code's credit, − what a charge, a debit or expiry took from promo grants.
   */
  promoChangeMc?: number;
  /** What caused the write: a settle may start an auto-recharge, a purchase or grant may not. */
  cause?: BalanceChange['cause'];
  /**
   * The policy's state as read earlier in this transaction, after the wallet was locked and before any
   * write to it (a settle has it); read here otherwise, so the caller must have locked the wallet.
   */
  state?: WalletState;
}

/** The columns an entry is inserted with, in the order of entryValues. */
export const ENTRY_COLUMNS = 'user_id, type, amount_mc, balance_after_mc, shortfall_mc, reference, idempotency_key, created_at_ms';
const INSERT_ENTRY = `insert into ledger_entries (${ENTRY_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_ENTRY_UNLESS_KEY_TAKEN = `${INSERT_ENTRY} on conflict (idempotency_key) do nothing`;

/** Appends the entry; an idempotency key already taken is an error (a usage entry: its hold ends once). */
export function appendEntry(trx: Trx, entry: NewEntry): Promise<LedgerEntry> {
  return append(trx, entry, false) as Promise<LedgerEntry>;
}

/**
 * Appends the entry unless its idempotency key is taken, by an earlier entry or a concurrent twin
 * that committed first: then nothing at all is written and the answer is null (the caller's
 * "already done"). The entry is inserted before the wallet is updated for that reason.
 */
export function appendEntryUnlessKeyTaken(trx: Trx, entry: NewEntry): Promise<LedgerEntry | null> {
  return append(trx, entry, true);
}

async function append(trx: Trx, entry: NewEntry, unlessKeyTaken: boolean): Promise<LedgerEntry | null> {
  if (!Number.isSafeInteger(entry.amountMc)) throw new RangeError(`amount must be whole millicredits, got ${entry.amountMc}`);
  const policy = ledgerPolicy();
  const state = entry.state ?? (await policy.readState(trx, { userId: entry.userId, apiKeyId: null, model: null }));
  const releaseHeldMc = entry.releaseHeldMc ?? 0;
  // The state was read in this transaction, after the wallet was locked and before any write to
  // it, so the wallet after this entry is known without reading it back.
  const balanceAfterMc = state.balanceMc + entry.amountMc;
  const heldAfterMc = state.heldMc - releaseHeldMc;
  const row: Omit<LedgerEntry, 'id'> = {
    user_id: entry.userId,
    type: entry.type,
    amount_mc: entry.amountMc,
    balance_after_mc: balanceAfterMc,
    shortfall_mc: entry.shortfallMc ?? 0,
    reference: entry.reference,
    idempotency_key: entry.idempotencyKey,
    created_at_ms: entry.nowMs,
  };
  const values = entryValues(row);
  const id = unlessKeyTaken ? await rawInsertOrNothing(trx, INSERT_ENTRY_UNLESS_KEY_TAKEN, values) : await rawInsert(trx, INSERT_ENTRY, values);
  if (id === null) return null;
  const changed = await rawRun(
    trx,
    'update wallets set balance_mc = balance_mc + ?, held_mc = held_mc - ?, promo_mc = promo_mc + ?, updated_at_ms = ? where user_id = ?',
    [entry.amountMc, releaseHeldMc, entry.promoChangeMc ?? 0, entry.nowMs, entry.userId],
  );
  if (changed !== 1) throw new Error(`user ${entry.userId} has no wallet`);
  await policy.afterBalanceChange(trx, {
    userId: entry.userId,
    nowMs: entry.nowMs,
    balanceBeforeMc: state.balanceMc,
    balanceAfterMc,
    availableAfterMc: balanceAfterMc - heldAfterMc,
    cause: entry.cause ?? 'ledger',
  }, state);
  return { id, ...row };
}

/** An entry's values in ENTRY_COLUMNS' order. */
export function entryValues(row: Omit<LedgerEntry, 'id'>): unknown[] {
  return [row.user_id, row.type, row.amount_mc, row.balance_after_mc, row.shortfall_mc, row.reference, row.idempotency_key, row.created_at_ms];
}

export async function findEntryByKey(trx: Trx, idempotencyKey: string): Promise<LedgerEntry | undefined> {
  return trx.selectFrom('ledger_entries').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
}
