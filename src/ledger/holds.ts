// Two-phase charging (after TigerBeetle's pending transfers): a hold reserves the worst case before
// the upstream call and ends exactly once, settled with the actual cost or voided.
import type { RoundingMode } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Hold, LedgerEntry, Rate, Usage, UsageEndpoint, UsageStatus } from '../db/schema.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { costMc, type TokenCounts } from '../pricing/cost.ts';
import { appendEntry, ENTRY_COLUMNS, entryValues } from './entries.ts';
import { usageEntryKey } from './idempotency-keys.ts';
import { onPostgres, rawFirst, rawInsert, rawRows, rawRun } from '../db/raw.ts';
import { endLapsedLease } from '../db/leases.ts';
import { HoldAlreadyEndedError, HoldNotFoundError, InsufficientCreditsError } from './errors.ts';
import { utcMonth } from '../month.ts';
import { ledgerPolicy, type SettleChange, type WalletState } from './policy.ts';
import { readStateAlone, type GroupRead, type StateReader } from './group-state.ts';
import { lockWallets } from '../db/locks.ts';
import { addToDailyUsage } from './daily-usage.ts';
import { spendPromoIn } from './promo-grants.ts';

export interface PlaceHoldInput {
  userId: number;
  apiKeyId: number | null;
  requestId: string;
  rate: Rate;
  roundingMode: RoundingMode;
  amountMc: number;
  ttlMs: number;
  /** The process lease it is placed under (src/db/leases.ts): when that lapses, the hold is given back. */
  leaseId?: number | null;
}

/**
 * Reserves `amountMc` with one conditional update (… WHERE balance − held ≥ amount), so concurrent
 * holds, in this process or another, can never reserve more than the balance. The rates and the
 * rounding mode are copied onto the hold now and used at settle, whatever the card says by then.
 * Committed without fsync: if the process dies, its call dies with it and the hold is lost harmlessly.
 * The auto-recharge it may start is not lost once paid for: the recharge worker's first write is a
 * FULL commit, which makes this one durable too, before the card is charged (see db/transaction.ts).
 */
export function placeHold(db: DB, clock: Clock, input: PlaceHoldInput): Promise<Hold> {
  return writeTransaction(
    db,
    async (trx) => placeHoldIn(trx, clock.now(), input, await ledgerPolicy().readState(trx, { userId: input.userId, apiKeyId: input.apiKeyId, model: input.rate.model })),
    { durable: false, lockFirst: { users: [input.userId] } },
  );
}

/**
 * placeHold's work inside a caller's transaction, so several holds can share one commit. Writes
 * nothing when refused. `state`: read in this transaction after the wallet was locked and before any
 * write to it (the policy's readState), so the wallet after the reservation is known without reading
 * it back.
 */
export async function placeHoldIn(trx: Trx, nowMs: number, input: PlaceHoldInput, state: WalletState): Promise<Hold> {
  if (!Number.isSafeInteger(input.amountMc) || input.amountMc < 0) {
    throw new RangeError(`a hold must be a whole number of millicredits ≥ 0, got ${input.amountMc}`);
  }
  const hold: Omit<Hold, 'id'> = {
    user_id: input.userId,
    api_key_id: input.apiKeyId,
    request_id: input.requestId,
    model: input.rate.model,
    rate_id: input.rate.id,
    amount_mc: input.amountMc,
    input_mc_per_1k: input.rate.input_mc_per_1k,
    cached_input_mc_per_1k: input.rate.cached_input_mc_per_1k,
    output_mc_per_1k: input.rate.output_mc_per_1k,
    rounding_mode: input.roundingMode,
    status: 'pending',
    created_at_ms: nowMs,
    expires_at_ms: nowMs + input.ttlMs,
    ended_at_ms: null,
    lease_id: input.leaseId ?? null,
  };
  const holdValues = HOLD_COLUMNS.map((column) => hold[column]);
  let id: number | null;
  if (onPostgres(trx)) {
    // The reservation and the hold in one statement (one round trip): the hold is inserted only if the
    // conditional update reserved.
    const row = await rawFirst<{ id: number }>(trx, PLACE_HOLD_POSTGRES, [input.amountMc, nowMs, input.userId, input.amountMc, ...holdValues]);
    id = row === undefined ? null : Number(row.id);
  } else {
    const reserved = await rawRun(trx, RESERVE, [input.amountMc, nowMs, input.userId, input.amountMc]);
    id = reserved === 0 ? null : await rawInsert(trx, INSERT_HOLD, holdValues);
  }
  // Refused: the wallet is still as `state` read it (nothing wrote to it since), so no read back.
  if (id === null) throw new InsufficientCreditsError(input.amountMc, state.availableMc, state.heldMc);
  // Less is available now: the policy may react (an auto-recharge, in this same transaction).
  await ledgerPolicy().afterBalanceChange(trx, {
    userId: input.userId,
    nowMs,
    balanceBeforeMc: state.balanceMc,
    balanceAfterMc: state.balanceMc,
    availableAfterMc: state.availableMc - input.amountMc,
    cause: 'hold',
  }, state);
  return { id, ...hold };
}

const HOLD_COLUMNS = [
  'user_id', 'api_key_id', 'request_id', 'model', 'rate_id', 'amount_mc', 'input_mc_per_1k', 'cached_input_mc_per_1k', 'output_mc_per_1k',
  'rounding_mode', 'status', 'created_at_ms', 'expires_at_ms', 'ended_at_ms', 'lease_id',
] as const;
const INSERT_HOLD = `insert into holds (${HOLD_COLUMNS.join(', ')}) values (${HOLD_COLUMNS.map(() => '?').join(', ')})`;
/** One conditional update: it reserves only if balance − held covers the amount. */
const RESERVE = 'update wallets set held_mc = held_mc + ?, updated_at_ms = ? where user_id = ? and balance_mc - held_mc >= ?';
/** PostgreSQL: the conditional update and the hold's insert as one statement (a data-modifying CTE, which SQLite lacks). */
const PLACE_HOLD_POSTGRES = `with reserved as (${RESERVE} returning user_id)
insert into holds (${HOLD_COLUMNS.join(', ')}) select ${HOLD_COLUMNS.map(() => '?').join(', ')} from reserved returning id`;

export interface CallOutcome {
  tokens: TokenCounts;
  status: UsageStatus;
  /** True when the tokens were counted here, not reported by the upstream. */
  estimated: boolean;
  latencyMs: number;
  upstreamResponseId?: string | null;
  /** The endpoint the call went through; chat completions when not said. */
  endpoint?: UsageEndpoint;
  /** Output tokens spent reasoning, as the upstream reported them (already in tokens.outputTokens). */
  reasoningTokens?: number;
  /** The upstream that answered (or failed last); null when none was tried. */
  upstream?: string | null;
  /** Each upstream tried and how it ended, in order ("primary: 500; secondary: ok"). */
  upstreamAttempts?: string | null;
}

export interface SettleResult {
  usage: Usage;
  hold: Hold;
  chargedMc: number;
  shortfallMc: number;
  balanceMc: number;
}

/**
 * Marks the hold settled and returns it as it was before and after. An expired hold (the sweeper
 * gave its reservation back) is settled all the same; a settled or voided one is refused. `placed`:
 * the hold as this process placed it (only its status and end ever change), which saves reading it
 * back in the common case, a call settling its own pending hold. Each update is guarded by the
 * status it saw, so a hold that another transaction ended meanwhile is never ended twice.
 */
async function markSettled(trx: Trx, holdId: number, nowMs: number, placed?: Hold): Promise<{ before: Hold; settled: Hold }> {
  if (placed?.id === holdId && placed.status === 'pending') {
    const changed = await rawRun(trx, "update holds set status = 'settled', ended_at_ms = ? where id = ? and status = 'pending'", [nowMs, holdId]);
    if (changed === 1) return { before: placed, settled: { ...placed, status: 'settled', ended_at_ms: nowMs } };
  }
  // Statuses only move forward (pending → expired → settled or voided), so this ends.
  for (;;) {
    const hold = await findHold(trx, holdId);
    if (hold.status !== 'pending' && hold.status !== 'expired') throw new HoldAlreadyEndedError(holdId, hold.status);
    const changed = await rawRun(trx, "update holds set status = 'settled', ended_at_ms = ? where id = ? and status = ?", [nowMs, holdId, hold.status]);
    if (changed === 1) return { before: hold, settled: { ...hold, status: 'settled', ended_at_ms: nowMs } };
  }
}

async function findHold(trx: Trx, holdId: number): Promise<Hold> {
  const hold = await rawFirst<Hold>(trx, 'select * from holds where id = ?', [holdId]);
  if (!hold) throw new HoldNotFoundError(holdId);
  return hold;
}

/** Gives a pending hold's reservation back to the wallet (an expired one was given back by the sweeper). */
async function release(trx: Trx, hold: Hold, nowMs: number): Promise<void> {
  if (hold.status !== 'pending') return;
  await trx
    .updateTable('wallets')
    .set((eb) => ({ held_mc: eb('held_mc', '-', hold.amount_mc), updated_at_ms: nowMs }))
    .where('user_id', '=', hold.user_id)
    .execute();
}

function usageRow(hold: Hold, outcome: CallOutcome, chargedMc: number, shortfallMc: number, nowMs: number) {
  return {
    request_id: hold.request_id,
    user_id: hold.user_id,
    hold_id: hold.id,
    api_key_id: hold.api_key_id,
    model: hold.model,
    input_tokens: outcome.tokens.inputTokens,
    cached_input_tokens: outcome.tokens.cachedInputTokens,
    output_tokens: outcome.tokens.outputTokens,
    input_mc_per_1k: hold.input_mc_per_1k,
    cached_input_mc_per_1k: hold.cached_input_mc_per_1k,
    output_mc_per_1k: hold.output_mc_per_1k,
    rounding_mode: hold.rounding_mode,
    hold_mc: hold.amount_mc,
    charged_mc: chargedMc,
    shortfall_mc: shortfallMc,
    status: outcome.status,
    estimated: outcome.estimated ? (1 as const) : (0 as const),
    latency_ms: outcome.latencyMs,
    upstream_response_id: outcome.upstreamResponseId ?? null,
    created_at_ms: nowMs,
    endpoint: outcome.endpoint ?? 'chat',
    reasoning_tokens: outcome.reasoningTokens ?? 0,
    upstream: outcome.upstream ?? null,
    upstream_attempts: outcome.upstreamAttempts ?? null,
  };
}

const USAGE_COLUMNS = [
  'request_id', 'user_id', 'hold_id', 'api_key_id', 'model', 'input_tokens', 'cached_input_tokens', 'output_tokens',
  'input_mc_per_1k', 'cached_input_mc_per_1k', 'output_mc_per_1k', 'rounding_mode', 'hold_mc', 'charged_mc', 'shortfall_mc',
  'status', 'estimated', 'latency_ms', 'upstream_response_id', 'created_at_ms', 'endpoint', 'reasoning_tokens', 'upstream', 'upstream_attempts',
] as const;
const INSERT_USAGE = `insert into usage (${USAGE_COLUMNS.join(', ')}) values (${USAGE_COLUMNS.map(() => '?').join(', ')})`;

async function insertUsage(trx: Trx, row: ReturnType<typeof usageRow>): Promise<Usage> {
  const id = await rawInsert(trx, INSERT_USAGE, USAGE_COLUMNS.map((column) => row[column]));
  return { id, ...row };
}

/** Keeps the monthly rollup in step with usage, in the same transaction: counted in the month the hold was placed. */
async function addToMonthlySpend(trx: Trx, hold: Hold, chargedMc: number): Promise<void> {
  await rawRun(trx, `${INSERT_MONTHLY_SPEND} values (?, ?, ?, ?, ?, 1) ${ADD_TO_MONTHLY_SPEND}`, monthlySpendValues(hold, chargedMc));
}

const INSERT_MONTHLY_SPEND = 'insert into monthly_spend (user_id, month, model, api_key_id, charged_mc, calls)';
const ADD_TO_MONTHLY_SPEND = 'on conflict (user_id, month, model, api_key_id) do update set charged_mc = monthly_spend.charged_mc + excluded.charged_mc, calls = monthly_spend.calls + 1';
const monthlySpendValues = (hold: Hold, chargedMc: number) => [hold.user_id, utcMonth(hold.created_at_ms), hold.model, hold.api_key_id ?? 0, chargedMc];

/** Whose write a settle of `hold` is: the policy's scope, and the call its hooks are told of. */
const scopeOf = (hold: Hold) => ({ userId: hold.user_id, apiKeyId: hold.api_key_id, model: hold.model });

/**
 * What a settle charges: the call's cost at the hold's rates, taken from what is available once
 * `releaseHeldMc` is given back, never below zero; the rest is shortfall.
 */
function chargeOf(hold: Hold, outcome: CallOutcome, state: WalletState, releaseHeldMc: number): { chargedMc: number; shortfallMc: number } {
  const costOfCallMc = costMc(outcome.tokens, hold, hold.rounding_mode);
  const chargedMc = Math.min(costOfCallMc, Math.max(0, state.balanceMc - (state.heldMc - releaseHeldMc)));
  return { chargedMc, shortfallMc: costOfCallMc - chargedMc };
}

/** A settle's last step, on either path: the policy's hook, then the state handed on to the group's next write. */
async function afterSettled(trx: Trx, nowMs: number, hold: Hold, read: GroupRead, change: SettleChange): Promise<void> {
  const policy = ledgerPolicy();
  await policy.afterSettle(trx, { ...scopeOf(hold), holdPlacedAtMs: hold.created_at_ms, nowMs }, read.state);
  read.after(policy.stateAfterSettle?.(read.state, change) ?? null);
}

/**
 * Charges the actual cost at the hold's rates: the hold is released and the cost taken from the
 * balance, beyond the hold only from what is still available, never below zero (the rest is
 * recorded as shortfall). A hold the sweeper already expired is charged the same way. The usage
 * row, its ledger entry (written even for 0) and the rollups share one timestamp and one durable commit.
 */
export function settleHold(db: DB, clock: Clock, holdId: number, outcome: CallOutcome): Promise<SettleResult> {
  // The hold's wallet locked before anything is decided (found through the hold: its user never changes).
  return writeTransaction(
    db,
    async (trx) => {
      const result = await settleHoldIn(trx, clock.now(), holdId, outcome, await findHold(trx, holdId));
      await addToDailyUsage(trx, [result.usage]);
      return result;
    },
    { lockFirst: { holds: [holdId] } },
  );
}

/**
 * settleHold's work inside a caller's transaction, so several settles can share one durable commit;
 * the caller has locked the hold's wallet, and adds the usage rows to the daily rollup
 * (addToDailyUsage) in the same transaction, once for all its settles. `placed`: the hold as returned when it was placed (or as
 * read in this transaction), if the caller has it.
 */
export async function settleHoldIn(trx: Trx, nowMs: number, holdId: number, outcome: CallOutcome, placed?: Hold, reader: StateReader = readStateAlone): Promise<SettleResult> {
  if (placed?.id === holdId && placed.status === 'pending' && onPostgres(trx)) {
    const settled = await settlePendingInOneStatement(trx, nowMs, placed, outcome, reader);
    if (settled !== null) return settled;
  }
  const { before: hold, settled } = await markSettled(trx, holdId, nowMs, placed);
  // An expired hold was already given back by the sweeper; a pending one is given back now.
  const releaseHeldMc = hold.status === 'pending' ? hold.amount_mc : 0;
  const read = await reader(trx, scopeOf(hold));
  const { state } = read;
  const { chargedMc, shortfallMc } = chargeOf(hold, outcome, state, releaseHeldMc);
  // Promo credit is spent first; a user with none (promo_mc 0, read with the wallet) costs no statement here.
  const promoSpentMc = chargedMc > 0 && state.promoMc > 0 ? await spendPromoIn(trx, hold.user_id, chargedMc, state.promoMc) : 0;
  const entry = await appendEntry(trx, {
    userId: hold.user_id,
    type: 'usage',
    amountMc: -chargedMc,
    shortfallMc,
    reference: hold.request_id,
    idempotencyKey: usageEntryKey(hold.request_id),
    nowMs,
    releaseHeldMc,
    promoChangeMc: -promoSpentMc,
    cause: 'settle',
    state,
  });
  const usage = await insertUsage(trx, usageRow(hold, outcome, chargedMc, shortfallMc, nowMs));
  await addToMonthlySpend(trx, hold, chargedMc);
  await afterSettled(trx, nowMs, hold, read, { balanceAfterMc: entry.balance_after_mc, heldAfterMc: state.heldMc - releaseHeldMc, promoAfterMc: state.promoMc - promoSpentMc, endedPending: hold.status === 'pending' });
  return { usage, hold: settled, chargedMc, shortfallMc, balanceMc: entry.balance_after_mc };
}

/**
 * PostgreSQL's settle of a hold this process placed, in two round trips: the policy's read, then one
 * statement (data-modifying CTEs) that marks the hold settled, guarded on `pending`, and only if it did
 * writes the entry, the wallet, the usage row and the monthly rollup; the same rows settleHoldIn's
 * general path writes one statement each. Null, having written nothing, when the hold had ended
 * meanwhile (the sweeper, a lapsed lease) or the charge would spend promo credit: the general path
 * then does it.
 */
async function settlePendingInOneStatement(trx: Trx, nowMs: number, hold: Hold, outcome: CallOutcome, reader: StateReader): Promise<SettleResult | null> {
  // Nothing is written when this returns null, so the state stays as read for the general path.
  const read = await reader(trx, scopeOf(hold));
  const { state } = read;
  const heldAfterMc = state.heldMc - hold.amount_mc;
  const { chargedMc, shortfallMc } = chargeOf(hold, outcome, state, hold.amount_mc);
  if (chargedMc > 0 && state.promoMc > 0) return null;
  const entry: Omit<LedgerEntry, 'id'> = {
    user_id: hold.user_id,
    type: 'usage',
    amount_mc: -chargedMc,
    balance_after_mc: state.balanceMc - chargedMc,
    shortfall_mc: shortfallMc,
    reference: hold.request_id,
    idempotency_key: usageEntryKey(hold.request_id),
    created_at_ms: nowMs,
  };
  const row = usageRow(hold, outcome, chargedMc, shortfallMc, nowMs);
  const ids = await rawFirst<{ entry_id: number | null; usage_id: number | null }>(trx, SETTLE_PENDING_POSTGRES, [
    nowMs, hold.id,
    ...entryValues(entry),
    -chargedMc, hold.amount_mc, nowMs, hold.user_id,
    ...USAGE_COLUMNS.map((column) => row[column]),
    ...monthlySpendValues(hold, chargedMc),
  ]);
  if (ids?.entry_id == null || ids.usage_id == null) return null;
  await ledgerPolicy().afterBalanceChange(trx, {
    userId: hold.user_id,
    nowMs,
    balanceBeforeMc: state.balanceMc,
    balanceAfterMc: entry.balance_after_mc,
    availableAfterMc: entry.balance_after_mc - heldAfterMc,
    cause: 'settle',
  }, state);
  await afterSettled(trx, nowMs, hold, read, { balanceAfterMc: entry.balance_after_mc, heldAfterMc, promoAfterMc: state.promoMc, endedPending: true });
  return {
    usage: { id: Number(ids.usage_id), ...row },
    hold: { ...hold, status: 'settled', ended_at_ms: nowMs },
    chargedMc,
    shortfallMc,
    balanceMc: entry.balance_after_mc,
  };
}

/**
 * Every write of a settle of a pending hold, each after the hold's guarded update and only if it
 * changed the hold (`from settled`, `exists`): the statements are those of markSettled, appendEntry,
 * insertUsage and addToMonthlySpend, in one round trip.
 */
const SETTLE_PENDING_POSTGRES = `with settled as (
  update holds set status = 'settled', ended_at_ms = ? where id = ? and status = 'pending' returning id),
entry as (insert into ledger_entries (${ENTRY_COLUMNS}) select ?, ?, ?, ?, ?, ?, ?, ? from settled returning id),
wallet as (update wallets set balance_mc = balance_mc + ?, held_mc = held_mc - ?, updated_at_ms = ? where user_id = ? and exists (select 1 from settled)),
used as (insert into usage (${USAGE_COLUMNS.join(', ')}) select ${USAGE_COLUMNS.map(() => '?').join(', ')} from settled returning id),
spent as (${INSERT_MONTHLY_SPEND} select ?, ?, ?, ?, ?, 1 from settled ${ADD_TO_MONTHLY_SPEND})
select (select id from entry) as entry_id, (select id from used) as usage_id`;

/**
 * Ends a hold with no charge. With `outcome` (an upstream error before any output) the call is
 * still recorded as a usage row of 0 with no ledger entry. Returns false if the hold had ended.
 */
export function voidHold(db: DB, clock: Clock, holdId: number, outcome?: CallOutcome): Promise<boolean> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    let hold = await findHold(trx, holdId);
    // Guarded by the status it saw, as in markSettled: a hold ends once, whoever races to end it.
    for (;;) {
      if (hold.status === 'settled' || hold.status === 'voided') return false;
      const changed = await rawRun(trx, "update holds set status = 'voided', ended_at_ms = ? where id = ? and status = ?", [nowMs, hold.id, hold.status]);
      if (changed === 1) break;
      hold = await findHold(trx, holdId);
    }
    await release(trx, hold, nowMs);
    if (outcome) await addToDailyUsage(trx, [await insertUsage(trx, usageRow(hold, outcome, 0, 0, nowMs))]);
    return true;
  }, { lockFirst: { holds: [holdId] } });
}

/**
 * The ending of a hold no call will settle (its process died): each of `due` still pending is marked
 * `expired`, not voided, so a call that was only slow is still charged, and its reservation is given
 * back. The wallets are locked in user order first, and each hold is expired by an update guarded on
 * `pending`, so sweepers and reapers in several processes, and the settles and voids racing them, end
 * each hold once. Returns how many holds this expired.
 */
async function expireIn(trx: Trx, due: readonly Hold[], nowMs: number): Promise<number> {
  await lockWallets(trx, due.map((hold) => hold.user_id));
  let expired = 0;
  for (const hold of due) {
    const changed = await rawRun(trx, "update holds set status = 'expired', ended_at_ms = ? where id = ? and status = 'pending'", [nowMs, hold.id]);
    if (changed === 0) continue;
    await release(trx, hold, nowMs);
    expired++;
  }
  return expired;
}

/**
 * The sweeper, the last resort: gives back every pending hold past its expiry (a call that died with
 * its process, if no process lease gave it back sooner). Works in batches so no transaction stays
 * long. Returns how many holds this call expired.
 */
export async function expireHolds(db: DB, clock: Clock, batchSize = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await writeTransaction(db, async (trx) => {
      const nowMs = clock.now();
      const due = await trx
        .selectFrom('holds')
        .selectAll()
        .where('status', '=', 'pending')
        .where('expires_at_ms', '<=', nowMs)
        .orderBy('expires_at_ms')
        .limit(batchSize)
        .execute();
      return { due: due.length, expired: await expireIn(trx, due, nowMs) };
    });
    total += batch.expired;
    if (batch.due < batchSize) return total;
  }
}

/**
 * Gives back the pending holds of a process lease that lapsed (its process died): the lease is
 * ended, guarded on its lapse, in the transaction that expires its holds, so of several processes
 * reaping it one does, and a crash between the two leaves both for the next. Returns how many holds
 * this expired, or null when the lease was not this call's to reap (reaped already, or renewed).
 */
export async function releaseHoldsOfLapsedLease(db: DB, clock: Clock, leaseId: number): Promise<number | null> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    if (!(await endLapsedLease(trx, leaseId, nowMs))) return null;
    // Among the pending holds only (the calls in flight, through holds_pending_user_key).
    const due = await rawRows<Hold>(trx, "select * from holds where status = 'pending' and lease_id = ? order by id", [leaseId]);
    return expireIn(trx, due, nowMs);
  });
}
