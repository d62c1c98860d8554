// The ledger's invariants (docs/architecture.md, Invariants): balances, holds, usage against its
// entries, the monthly and daily rollups, rates kept. Run with the other parts' checks by src/audit.ts.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import { DAY_MS, utcMonth } from '../month.ts';
import { USAGE_KEY_PREFIX, keysLike } from './idempotency-keys.ts';

export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5 | 6;
  detail: string;
}

/** One invariant's check: the violations it finds, none when it holds. */
export type AuditCheck = (db: DB) => Promise<Violation[]>;

// Every check is set-based: the database compares and returns only the rows that break an
// invariant (at most 100 of each kind), joined through primary keys and unique indexes, so an audit
// reads each table once however large it is and never loads usage or the ledger row by row.

/** 1. balance = Σ ledger amounts per user; each entry's balance_after = the running sum. */
const balancesMatchLedger: AuditCheck = async (db) => {
  const sums = await sql<{ user_id: number; balance_mc: number; sum_mc: number }>`
    select user_id, balance_mc, sum_mc from (
      select w.user_id, w.balance_mc, coalesce((select sum(e.amount_mc) from ledger_entries e where e.user_id = w.user_id), 0) as sum_mc
      from wallets w) as s
    where sum_mc <> balance_mc
    limit 100`.execute(db);
  const violations: Violation[] = sums.rows.map((r) => ({ invariant: 1, detail: `user ${r.user_id}: balance ${r.balance_mc} mc but ledger sums to ${r.sum_mc} mc` }));
  const running = await sql<{ id: number; user_id: number; balance_after_mc: number; running_mc: number }>`
    select id, user_id, balance_after_mc, running_mc from (
      select id, user_id, balance_after_mc,
             sum(amount_mc) over (partition by user_id order by id rows between unbounded preceding and current row) as running_mc
      from ledger_entries) as r
    where balance_after_mc <> running_mc
    limit 100`.execute(db);
  for (const r of running.rows) {
    violations.push({ invariant: 1, detail: `entry ${r.id} (user ${r.user_id}): balance_after ${r.balance_after_mc} mc but running sum is ${r.running_mc} mc` });
  }
  return violations;
};

/** 2. 0 ≤ held ≤ balance, and held = Σ pending holds. */
const holdsWithinBalance: AuditCheck = async (db) => {
  const rows = await sql<{ user_id: number; balance_mc: number; held_mc: number; pending_mc: number }>`
    select user_id, balance_mc, held_mc, pending_mc from (
      select w.user_id, w.balance_mc, w.held_mc,
             coalesce((select sum(h.amount_mc) from holds h where h.user_id = w.user_id and h.status = 'pending'), 0) as pending_mc
      from wallets w) as s
    where held_mc < 0 or held_mc > balance_mc or balance_mc < 0 or held_mc <> pending_mc
    limit 100`.execute(db);
  const violations: Violation[] = [];
  for (const r of rows.rows) {
    const held = Number(r.held_mc);
    const balance = Number(r.balance_mc);
    if (held < 0 || held > balance || balance < 0) {
      violations.push({ invariant: 2, detail: `user ${r.user_id}: held ${held} mc, balance ${balance} mc (need 0 ≤ held ≤ balance)` });
    }
    if (held !== Number(r.pending_mc)) {
      violations.push({ invariant: 2, detail: `user ${r.user_id}: held ${held} mc but pending holds sum to ${r.pending_mc} mc` });
    }
  }
  return violations;
};

/**
 * 3. Each hold's books, by its status (what ledger/holds.ts writes):
 * - settled: exactly one usage row and exactly one ledger entry, the hold's user's `usage` entry
 *   keyed `usage:{request id}`, of minus the row's charged amount and at the row's timestamp (so
 *   Σ usage charges over any period = Σ usage deductions over it). Settling an expired hold makes it
 *   settled, so this holds for those too.
 * - voided: no ledger entry; at most one usage row, charged 0 with no shortfall (voidHold records an
 *   upstream error that came before any output that way).
 * - pending or expired: no usage row and no ledger entry.
 * "Exactly one" needs no counting: request ids are UNIQUE in holds, usage and (as usage:{id}) in
 * ledger_entries, so each hold is matched to its row and entry by unique index, and the other two
 * queries report any usage row not under its own hold's request id (a second row on a hold) and any
 * usage entry not keyed to a hold's request id.
 */
const usageMatchesLedger: AuditCheck = async (db) => {
  const violations: Violation[] = [];
  const report = (detail: string) => violations.push({ invariant: 3, detail });

  // Usage rows → their hold, through its primary key.
  const misattached = await sql<{ request_id: string; user_id: number; hold_id: number; hold_request_id: string | null; hold_user_id: number | null }>`
    select u.request_id, u.user_id, u.hold_id, h.request_id as hold_request_id, h.user_id as hold_user_id
    from usage u
    left join holds h on h.id = u.hold_id
    where h.id is null or h.request_id <> u.request_id or h.user_id <> u.user_id
    limit 100`.execute(db);
  for (const r of misattached.rows) {
    if (r.hold_request_id === null) report(`usage ${r.request_id} is attached to hold ${r.hold_id}, which does not exist`);
    else if (r.hold_request_id !== r.request_id) report(`usage ${r.request_id} is attached to hold ${r.hold_id} of ${r.hold_request_id}: a hold has one usage row, under its own request id`);
    else report(`usage ${r.request_id} belongs to user ${r.user_id} but its hold ${r.hold_id} to user ${r.hold_user_id}`);
  }

  // Holds → their usage row and ledger entry, through the unique request ids.
  const holds = await sql<{
    id: number; request_id: string; status: string; user_id: number;
    usage_id: number | null; charged_mc: number | null; shortfall_mc: number | null; usage_ms: number | null;
    entry_id: number | null; entry_type: string | null; entry_user_id: number | null; entry_mc: number | null; entry_ms: number | null;
  }>`
    select h.id, h.request_id, h.status, h.user_id,
           u.id as usage_id, u.charged_mc, u.shortfall_mc, u.created_at_ms as usage_ms,
           e.id as entry_id, e.type as entry_type, e.user_id as entry_user_id, e.amount_mc as entry_mc, e.created_at_ms as entry_ms
    from holds h
    left join usage u on u.request_id = h.request_id
    left join ledger_entries e on e.idempotency_key = (${sql.lit(USAGE_KEY_PREFIX)} || h.request_id)
    where (h.status = 'settled' and (u.id is null or e.id is null or e.type <> 'usage' or e.user_id <> h.user_id
                                     or e.amount_mc <> -u.charged_mc or e.created_at_ms <> u.created_at_ms))
       or (h.status = 'voided' and (e.id is not null or u.charged_mc <> 0 or u.shortfall_mc <> 0))
       or (h.status in ('pending', 'expired') and (e.id is not null or u.id is not null))
    limit 100`.execute(db);
  for (const r of holds.rows) {
    const hold = `hold ${r.id} (${r.request_id})`;
    if (r.status === 'settled') {
      if (r.usage_id === null) report(`${hold} is settled but has no usage row`);
      if (r.entry_id === null) {
        report(r.usage_id === null ? `${hold} is settled but has no usage entry` : `usage ${r.request_id}: charged ${r.charged_mc} mc but its usage entry is missing`);
      } else if (
        r.entry_type !== 'usage' || Number(r.entry_user_id) !== Number(r.user_id) ||
        (r.usage_id !== null && (Number(r.entry_mc) !== -Number(r.charged_mc) || Number(r.entry_ms) !== Number(r.usage_ms)))
      ) {
        report(`usage ${r.request_id}: charged ${r.charged_mc ?? '(no row)'} mc at ${r.usage_ms ?? '(no row)'} but its usage entry is ${r.entry_type} of ${r.entry_mc} mc at ${r.entry_ms} for user ${r.entry_user_id} (the hold's is ${r.user_id})`);
      }
      continue;
    }
    if (r.entry_id !== null) report(`${hold} is ${r.status} yet has usage entry ${r.entry_id} of ${r.entry_mc} mc`);
    if (r.usage_id !== null && r.status !== 'voided') report(`${hold} is ${r.status} yet has a usage row`);
    if (r.usage_id !== null && (Number(r.charged_mc) !== 0 || Number(r.shortfall_mc) !== 0)) {
      report(`usage ${r.request_id}: hold ${r.status} yet charged ${r.charged_mc} mc with ${r.shortfall_mc} mc shortfall`);
    }
  }

  // Usage entries → a hold of their request id; their key is usage:{request id}, so two cannot share one.
  const orphans = await sql<{ id: number; reference: string; idempotency_key: string | null }>`
    select e.id, e.reference, e.idempotency_key from ledger_entries e
    where (e.type = 'usage' or e.idempotency_key like ${sql.lit(keysLike(USAGE_KEY_PREFIX))})
      and (e.idempotency_key is null or e.idempotency_key <> (${sql.lit(USAGE_KEY_PREFIX)} || e.reference)
           or not exists (select 1 from holds h where h.request_id = e.reference))
    limit 100`.execute(db);
  for (const r of orphans.rows) {
    report(`ledger entry ${r.id}: usage deduction for ${r.reference} under ${r.idempotency_key ?? 'no key'}, not the usage:{request id} entry of a hold`);
  }
  return violations;
};

/**
 * 3, per month: the stored rollup (monthly_spend, read by spend this month and the caps) is Σ usage
 * charges and the count of calls, per (user, UTC month the hold was placed, model, key; 0 for none),
 * over the settled calls: every settle adds to it (aborted and upstream_error ones too), a void never.
 * The database sums by UTC day in one pass (integer division by a literal: a bound number would be
 * a float) and the days, one row per user, model, key and day with calls, are folded into months
 * here: SQL has no portable way to name a month, and a day never spans two.
 */
const monthlySpendMatchesUsage: AuditCheck = async (db) => {
  const days = await sql<{ user_id: number; model: string; api_key_id: number; day: number; charged_mc: number; calls: number }>`
    select h.user_id, h.model, coalesce(h.api_key_id, 0) as api_key_id, h.created_at_ms / ${sql.lit(DAY_MS)} as day,
           sum(u.charged_mc) as charged_mc, count(*) as calls
    from usage u
    join holds h on h.id = u.hold_id
    where h.status = 'settled'
    group by h.user_id, h.model, coalesce(h.api_key_id, 0), h.created_at_ms / ${sql.lit(DAY_MS)}`.execute(db);
  const stored = await sql<{ user_id: number; month: string; model: string; api_key_id: number; charged_mc: number; calls: number }>`
    select user_id, month, model, api_key_id, charged_mc, calls from monthly_spend`.execute(db);
  const groupKey = (userId: number, month: string, model: string, keyId: number) => JSON.stringify([Number(userId), month, model, Number(keyId)]);
  const expected = new Map<string, { chargedMc: number; calls: number }>();
  for (const r of days.rows) {
    const key = groupKey(r.user_id, utcMonth(Number(r.day) * DAY_MS), r.model, r.api_key_id);
    const sum = expected.get(key) ?? { chargedMc: 0, calls: 0 };
    sum.chargedMc += Number(r.charged_mc);
    sum.calls += Number(r.calls);
    expected.set(key, sum);
  }
  const violations: Violation[] = [];
  for (const r of stored.rows) {
    const key = groupKey(r.user_id, r.month, r.model, r.api_key_id);
    const sum = expected.get(key) ?? { chargedMc: 0, calls: 0 };
    expected.delete(key);
    if (Number(r.charged_mc) !== sum.chargedMc || Number(r.calls) !== sum.calls) {
      violations.push({ invariant: 3, detail: `monthly spend of user ${r.user_id}, ${r.month}, ${r.model}, key ${r.api_key_id}: ${r.charged_mc} mc in ${r.calls} calls but settled usage is ${sum.chargedMc} mc in ${sum.calls} calls` });
    }
  }
  for (const [key, sum] of expected) {
    const [userId, month, model, keyId] = JSON.parse(key) as [number, string, string, number];
    violations.push({ invariant: 3, detail: `monthly spend of user ${userId}, ${month}, ${model}, key ${keyId}: missing, but settled usage is ${sum.chargedMc} mc in ${sum.calls} calls` });
  }
  return violations;
};

/**
 * 3, per day: the daily rollup (usage_daily, read by the usage summary API) holds, per user, UTC day
 * of the usage row, model, key (0 for none) and endpoint, the count of usage rows and the sums of their
 * tokens and charges: every usage row, settled or voided, since the API's list shows them all. As for
 * months, the database sums by day number and the days are named here.
 */
const DAILY_SUMS = ['calls', 'input_tokens', 'cached_input_tokens', 'output_tokens', 'reasoning_tokens', 'charged_mc'] as const;
type DailySums = Record<(typeof DAILY_SUMS)[number], number>;
const dailyUsageMatchesUsage: AuditCheck = async (db) => {
  const days = await sql<DailySums & { user_id: number; day: number; model: string; api_key_id: number; endpoint: string }>`
    select user_id, created_at_ms / ${sql.lit(DAY_MS)} as day, model, coalesce(api_key_id, 0) as api_key_id, endpoint,
           count(*) as calls, sum(input_tokens) as input_tokens, sum(cached_input_tokens) as cached_input_tokens,
           sum(output_tokens) as output_tokens, sum(reasoning_tokens) as reasoning_tokens, sum(charged_mc) as charged_mc
    from usage
    group by user_id, created_at_ms / ${sql.lit(DAY_MS)}, model, coalesce(api_key_id, 0), endpoint`.execute(db);
  const stored = await sql<DailySums & { user_id: number; day: string; model: string; api_key_id: number; endpoint: string }>`
    select user_id, day, model, api_key_id, endpoint, ${sql.raw(DAILY_SUMS.join(', '))} from usage_daily`.execute(db);
  const groupKey = (userId: number, day: string, model: string, keyId: number, endpoint: string) => JSON.stringify([Number(userId), day, model, Number(keyId), endpoint]);
  const sumsText = (sums: DailySums | undefined) => (sums ? DAILY_SUMS.map((name) => `${name} ${sums[name]}`).join(', ') : 'nothing');
  const expected = new Map<string, DailySums>();
  for (const r of days.rows) {
    const sums = Object.fromEntries(DAILY_SUMS.map((name) => [name, Number(r[name])])) as DailySums;
    expected.set(groupKey(r.user_id, new Date(Number(r.day) * DAY_MS).toISOString().slice(0, 10), r.model, r.api_key_id, r.endpoint), sums);
  }
  const violations: Violation[] = [];
  const report = (key: string, storedSums: DailySums | undefined, usageSums: DailySums | undefined) => {
    if (violations.length >= 100) return;
    const [userId, day, model, keyId, endpoint] = JSON.parse(key) as [number, string, string, number, string];
    violations.push({ invariant: 3, detail: `daily usage of user ${userId}, ${day}, ${model}, key ${keyId}, ${endpoint}: ${sumsText(storedSums)} but its usage rows have ${sumsText(usageSums)}` });
  };
  for (const r of stored.rows) {
    const key = groupKey(r.user_id, r.day, r.model, r.api_key_id, r.endpoint);
    const storedSums = Object.fromEntries(DAILY_SUMS.map((name) => [name, Number(r[name])])) as DailySums;
    const usageSums = expected.get(key);
    expected.delete(key);
    if (!usageSums || DAILY_SUMS.some((name) => storedSums[name] !== usageSums[name])) report(key, storedSums, usageSums);
  }
  for (const [key, usageSums] of expected) report(key, undefined, usageSums);
  return violations;
};

/** 5. usage rows keep the rates that were applied: those of the rate version their hold was placed at. */
const usageKeepsRates: AuditCheck = async (db) => {
  const rows = await sql<{ request_id: string }>`
    select u.request_id from usage u
    join holds h on h.id = u.hold_id
    join rates r on r.id = h.rate_id
    where u.input_mc_per_1k <> r.input_mc_per_1k or u.cached_input_mc_per_1k <> r.cached_input_mc_per_1k
       or u.output_mc_per_1k <> r.output_mc_per_1k
       or h.input_mc_per_1k <> r.input_mc_per_1k or h.cached_input_mc_per_1k <> r.cached_input_mc_per_1k
       or h.output_mc_per_1k <> r.output_mc_per_1k or u.rounding_mode <> h.rounding_mode
    limit 100`.execute(db);
  return rows.rows.map((r) => ({ invariant: 5, detail: `usage ${r.request_id}: rates differ from the rate version its hold was placed at` }));
};

/** Every check, listed here by hand: a new one (billing's purchase check, invariant 4) is added to this list. */
export const ledgerChecks: readonly AuditCheck[] = [balancesMatchLedger, holdsWithinBalance, usageMatchesLedger, monthlySpendMatchesUsage, dailyUsageMatchesUsage, usageKeepsRates];
