// Credits and debits that come from outside a call: grants, adjustments, and any credit recorded
// under a UNIQUE idempotency key (purchases, recharges, CLI keys), where a repeat changes nothing.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { LedgerEntry, LedgerEntryType } from '../db/schema.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { appendEntry, findEntryByKey } from './entries.ts';
import { IdempotencyConflictError } from './errors.ts';
import { ledgerPolicy } from './policy.ts';

export interface LedgerWriteResult {
  entry: LedgerEntry;
  /** True when the idempotency key was seen before: nothing was written this time. */
  duplicate: boolean;
  balanceMc: number;
}

export interface CreditInput {
  userId: number;
  type: LedgerEntryType;
  amountMc: number;
  reference: string;
  idempotencyKey?: string | null;
}

async function balanceOf(trx: Trx, userId: number): Promise<number> {
  const wallet = await trx.selectFrom('wallets').select('balance_mc').where('user_id', '=', userId).executeTakeFirstOrThrow();
  return wallet.balance_mc;
}

/**
 * Looks the key up inside the caller's IMMEDIATE transaction, so two concurrent callers with the
 * same key cannot both pass the check (the UNIQUE constraint is the second line of defence).
 */
async function existingEntry(trx: Trx, userId: number, key: string | null | undefined): Promise<LedgerWriteResult | null> {
  if (!key) return null;
  const entry = await findEntryByKey(trx, key);
  if (!entry) return null;
  if (entry.user_id !== userId) throw new IdempotencyConflictError(key);
  return { entry, duplicate: true, balanceMc: await balanceOf(trx, userId) };
}

/** Adds a positive amount once per idempotency key, inside the caller's transaction. */
export async function recordCreditIn(trx: Trx, nowMs: number, input: CreditInput): Promise<LedgerWriteResult> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc <= 0) {
    throw new RangeError(`a credit must be a positive whole number of millicredits, got ${input.amountMc}`);
  }
  const seen = await existingEntry(trx, input.userId, input.idempotencyKey);
  if (seen) return seen;
  const entry = await appendEntry(trx, {
    userId: input.userId,
    type: input.type,
    amountMc: input.amountMc,
    reference: input.reference,
    idempotencyKey: input.idempotencyKey ?? null,
    nowMs,
  });
  return { entry, duplicate: false, balanceMc: entry.balance_after_mc };
}

export function recordCredit(db: DB, clock: Clock, input: CreditInput): Promise<LedgerWriteResult> {
  return writeTransaction(db, (trx) => recordCreditIn(trx, clock.now(), input));
}

export interface GrantInput {
  userId: number;
  amountMc: number;
  reason: string;
  idempotencyKey?: string | null;
}

export function grantCredits(db: DB, clock: Clock, input: GrantInput): Promise<LedgerWriteResult> {
  return recordCredit(db, clock, {
    userId: input.userId,
    type: 'grant',
    amountMc: input.amountMc,
    reference: input.reason,
    idempotencyKey: input.idempotencyKey,
  });
}

export interface DebitInput {
  userId: number;
  type: LedgerEntryType;
  /** Positive: how much to take. */
  amountMc: number;
  reference: string;
  idempotencyKey?: string | null;
}

/**
 * Takes up to `amountMc`, never more than balance − held (so neither the balance nor the holds
 * go negative); what could not be taken is recorded on the entry as shortfall.
 */
export async function debitAtMostIn(trx: Trx, nowMs: number, input: DebitInput): Promise<LedgerWriteResult> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc <= 0) {
    throw new RangeError(`a debit must be a positive whole number of millicredits, got ${input.amountMc}`);
  }
  const seen = await existingEntry(trx, input.userId, input.idempotencyKey);
  if (seen) return seen;
  // One read of the wallet: appendEntry works from this same state (nothing wrote since).
  const state = await ledgerPolicy().readState(trx, { userId: input.userId, apiKeyId: null, model: null });
  const takenMc = Math.min(input.amountMc, Math.max(0, state.availableMc));
  const entry = await appendEntry(trx, {
    userId: input.userId,
    type: input.type,
    amountMc: -takenMc,
    shortfallMc: input.amountMc - takenMc,
    reference: input.reference,
    idempotencyKey: input.idempotencyKey ?? null,
    nowMs,
    state,
  });
  return { entry, duplicate: false, balanceMc: entry.balance_after_mc };
}

export interface AdjustInput {
  userId: number;
  /** Signed: positive adds, negative takes (never below zero). */
  amountMc: number;
  reason: string;
  idempotencyKey?: string | null;
}

export function adjustCredits(db: DB, clock: Clock, input: AdjustInput): Promise<LedgerWriteResult> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc === 0) {
    throw new RangeError(`an adjustment must be a non-zero whole number of millicredits, got ${input.amountMc}`);
  }
  return writeTransaction(db, (trx) => {
    const common = { userId: input.userId, type: 'adjustment' as const, reference: input.reason, idempotencyKey: input.idempotencyKey };
    return input.amountMc > 0
      ? recordCreditIn(trx, clock.now(), { ...common, amountMc: input.amountMc })
      : debitAtMostIn(trx, clock.now(), { ...common, amountMc: -input.amountMc });
  });
}
