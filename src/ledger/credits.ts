// Credits and debits that come from outside a call: grants, adjustments, and any credit recorded
// under a UNIQUE idempotency key (purchases, recharges, CLI keys), where a repeat changes nothing,
// even one running at the same moment in another transaction.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { LedgerEntry, LedgerEntryType } from '../db/schema.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { lockWallet } from '../db/locks.ts';
import { appendEntry, appendEntryUnlessKeyTaken, findEntryByKey, type NewEntry } from './entries.ts';
import { IdempotencyConflictError } from './errors.ts';
import { ledgerPolicy } from './policy.ts';
import { spendPromoIn } from './promo-grants.ts';

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

/** The entry already written under `key`, as the answer to its repeat; refused when it is another user's. */
async function earlierEntry(trx: Trx, userId: number, key: string): Promise<LedgerWriteResult | null> {
  const entry = await findEntryByKey(trx, key);
  if (!entry) return null;
  if (entry.user_id !== userId) throw new IdempotencyConflictError(key);
  return { entry, duplicate: true, balanceMc: await balanceOf(trx, userId) };
}

/**
 * A key seen before is answered at once (a committed entry never goes away); otherwise the user's
 * wallet is locked for the write, before anything of it is read (docs/architecture.md, Two backends).
 */
async function earlierOrLock(trx: Trx, userId: number, key: string | null): Promise<LedgerWriteResult | null> {
  if (key) {
    const seen = await earlierEntry(trx, userId, key);
    if (seen) return seen;
  }
  await lockWallet(trx, userId);
  return null;
}

/**
 * Writes `entry`, once per idempotency key: a key a concurrent twin took after earlierOrLock looked
 * leaves nothing written here (the entry's insert is the write's first statement) and is answered
 * as the duplicate it is, not as the database's UNIQUE error.
 */
async function writeOnce(trx: Trx, entry: NewEntry): Promise<LedgerWriteResult> {
  const key = entry.idempotencyKey;
  const written = key ? await appendEntryUnlessKeyTaken(trx, entry) : await appendEntry(trx, entry);
  if (written) return { entry: written, duplicate: false, balanceMc: written.balance_after_mc };
  const earlier = await earlierEntry(trx, entry.userId, key!);
  if (!earlier) throw new Error(`idempotency key "${key}" was taken, yet no entry has it`);
  return earlier;
}

/** Adds a positive amount once per idempotency key, inside the caller's transaction. */
export async function recordCreditIn(trx: Trx, nowMs: number, input: CreditInput): Promise<LedgerWriteResult> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc <= 0) {
    throw new RangeError(`a credit must be a positive whole number of millicredits, got ${input.amountMc}`);
  }
  const key = input.idempotencyKey ?? null;
  const seen = await earlierOrLock(trx, input.userId, key);
  if (seen) return seen;
  return writeOnce(trx, { userId: input.userId, type: input.type, amountMc: input.amountMc, reference: input.reference, idempotencyKey: key, nowMs });
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
  /**
   * True for a refund's or a dispute's clawback: it takes only paid credit, never live promo credit
   * (at most balance − held − promo). Otherwise promo credit goes first, as for a charge.
   */
  sparePromo?: boolean;
}

/**
 * Takes up to `amountMc`, never more than balance − held (so neither the balance nor the holds
 * go negative); what could not be taken is recorded on the entry as shortfall.
 */
export async function debitAtMostIn(trx: Trx, nowMs: number, input: DebitInput): Promise<LedgerWriteResult> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc <= 0) {
    throw new RangeError(`a debit must be a positive whole number of millicredits, got ${input.amountMc}`);
  }
  const key = input.idempotencyKey ?? null;
  const seen = await earlierOrLock(trx, input.userId, key);
  if (seen) return seen;
  // One read of the wallet, after its lock: appendEntry works from this same state (nothing wrote since).
  const state = await ledgerPolicy().readState(trx, { userId: input.userId, apiKeyId: null, model: null });
  const takableMc = input.sparePromo ? state.availableMc - state.promoMc : state.availableMc;
  const takenMc = Math.min(input.amountMc, Math.max(0, takableMc));
  const promoSpentMc = input.sparePromo || takenMc === 0 ? 0 : await spendPromoIn(trx, input.userId, takenMc, state.promoMc);
  return writeOnce(trx, {
    userId: input.userId,
    type: input.type,
    amountMc: -takenMc,
    shortfallMc: input.amountMc - takenMc,
    promoChangeMc: -promoSpentMc,
    reference: input.reference,
    idempotencyKey: key,
    nowMs,
    state,
  });
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
