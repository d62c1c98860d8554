// Appends to the ledger inside a caller's transaction: the wallet's balance and the entry's
// balance_after move together, so invariant 1 (balance = Σ entries = running sum) holds per write.
import type { LedgerEntry, LedgerEntryType } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { rawFirst } from '../db/raw.ts';
import { afterBalanceChange, type BalanceChange } from '../limits/balance-hooks.ts';
import { readCallLimits, type CallLimits } from '../limits/call-limits.ts';

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
  /** What caused the write: a settle may start an auto-recharge, a purchase or grant may not. */
  cause?: BalanceChange['cause'];
  /** The user's limits as read earlier in this transaction (a settle has them); read here otherwise. */
  limits?: CallLimits;
}

export async function appendEntry(trx: Trx, entry: NewEntry): Promise<LedgerEntry> {
  if (!Number.isSafeInteger(entry.amountMc)) throw new RangeError(`amount must be whole millicredits, got ${entry.amountMc}`);
  const limits = entry.limits ?? (await readCallLimits(trx, { userId: entry.userId, apiKeyId: null, model: null }));
  const wallet = await rawFirst<{ balance_mc: number; held_mc: number }>(
    trx,
    'update wallets set balance_mc = balance_mc + ?, held_mc = held_mc - ?, updated_at_ms = ? where user_id = ? returning balance_mc, held_mc',
    [entry.amountMc, entry.releaseHeldMc ?? 0, entry.nowMs, entry.userId],
  );
  if (!wallet) throw new Error(`user ${entry.userId} has no wallet`);
  await afterBalanceChange(trx, {
    userId: entry.userId,
    nowMs: entry.nowMs,
    balanceBeforeMc: wallet.balance_mc - entry.amountMc,
    balanceAfterMc: wallet.balance_mc,
    availableAfterMc: wallet.balance_mc - wallet.held_mc,
    cause: entry.cause ?? 'ledger',
  }, limits);
  const inserted = await rawFirst<LedgerEntry>(
    trx,
    'insert into ledger_entries (user_id, type, amount_mc, balance_after_mc, shortfall_mc, reference, idempotency_key, created_at_ms) values (?, ?, ?, ?, ?, ?, ?, ?) returning *',
    [entry.userId, entry.type, entry.amountMc, wallet.balance_mc, entry.shortfallMc ?? 0, entry.reference, entry.idempotencyKey, entry.nowMs],
  );
  return inserted!;
}

export async function findEntryByKey(trx: Trx, idempotencyKey: string): Promise<LedgerEntry | undefined> {
  return trx.selectFrom('ledger_entries').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
}

/** What can be taken from a wallet without pushing it below zero or below its holds. */
export async function availableMc(trx: Trx, userId: number): Promise<number> {
  const wallet = await trx
    .selectFrom('wallets')
    .select(['balance_mc', 'held_mc'])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return wallet.balance_mc - wallet.held_mc;
}
