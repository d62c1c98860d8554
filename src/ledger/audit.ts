// Checks every invariant of DESIGN §4 over the whole database; each violation names what broke.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import { purchasesCreditedOnce } from '../billing/audit-check.ts';
import { utcMonth } from './month.ts';

export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5;
  detail: string;
}

type Check = (db: DB) => Promise<Violation[]>;

/** 1. balance = Σ ledger amounts per user; each entry's balance_after = the running sum. */
const balancesMatchLedger: Check = async (db) => {
  const sums = await sql<{ user_id: number; balance_mc: number; sum_mc: number | null }>`
    select w.user_id, w.balance_mc, (select sum(e.amount_mc) from ledger_entries e where e.user_id = w.user_id) as sum_mc
    from wallets w`.execute(db);
  const violations: Violation[] = sums.rows
    .filter((r) => Number(r.sum_mc ?? 0) !== Number(r.balance_mc))
    .map((r) => ({ invariant: 1, detail: `user ${r.user_id}: balance ${r.balance_mc} mc but ledger sums to ${r.sum_mc ?? 0} mc` }));
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
const holdsWithinBalance: Check = async (db) => {
  const rows = await sql<{ user_id: number; balance_mc: number; held_mc: number; pending_mc: number | null }>`
    select w.user_id, w.balance_mc, w.held_mc,
           (select sum(h.amount_mc) from holds h where h.user_id = w.user_id and h.status = 'pending') as pending_mc
    from wallets w`.execute(db);
  const violations: Violation[] = [];
  for (const r of rows.rows) {
    const held = Number(r.held_mc);
    const balance = Number(r.balance_mc);
    if (held < 0 || held > balance || balance < 0) {
      violations.push({ invariant: 2, detail: `user ${r.user_id}: held ${held} mc, balance ${balance} mc (need 0 ≤ held ≤ balance)` });
    }
    if (held !== Number(r.pending_mc ?? 0)) {
      violations.push({ invariant: 2, detail: `user ${r.user_id}: held ${held} mc but pending holds sum to ${r.pending_mc ?? 0} mc` });
    }
  }
  return violations;
};

/**
 * 3. every settled usage row has exactly one `usage` ledger entry of the same amount (so Σ usage
 * charges over any period = Σ usage deductions over it: row and entry share their timestamp);
 * no usage entry without a settled usage row; a voided call has no entry.
 */
const usageMatchesLedger: Check = async (db) => {
  // Usage entries are keyed `usage:{request id}` under the UNIQUE index, so the join is indexed
  // and there can never be two; an entry under another key is an orphan (checked below).
  const unmatched = await sql<{ request_id: string; charged_mc: number; hold_status: string; entry_mc: number | null; entry_type: string | null; entry_ms: number | null; created_at_ms: number }>`
    select u.request_id, u.charged_mc, h.status as hold_status, u.created_at_ms,
           e.amount_mc as entry_mc, e.type as entry_type, e.created_at_ms as entry_ms
    from usage u
    join holds h on h.id = u.hold_id
    left join ledger_entries e on e.idempotency_key = ('usage:' || u.request_id) and e.user_id = u.user_id`.execute(db);
  const violations: Violation[] = [];
  for (const r of unmatched.rows) {
    const hasEntry = r.entry_type !== null;
    if (r.hold_status === 'settled') {
      if (!hasEntry || r.entry_type !== 'usage' || Number(r.entry_mc) !== -Number(r.charged_mc) || Number(r.entry_ms) !== Number(r.created_at_ms)) {
        violations.push({ invariant: 3, detail: `usage ${r.request_id}: charged ${r.charged_mc} mc but its usage entry is ${hasEntry ? `${r.entry_mc} mc` : 'missing'}` });
      }
    } else if (hasEntry || Number(r.charged_mc) !== 0) {
      violations.push({ invariant: 3, detail: `usage ${r.request_id}: hold ${r.hold_status} yet charged ${r.charged_mc} mc${hasEntry ? ' with a usage entry' : ''}` });
    }
  }
  const orphans = await sql<{ id: number; reference: string }>`
    select e.id, e.reference from ledger_entries e
    where e.type = 'usage'
      and (e.idempotency_key is null or e.idempotency_key <> ('usage:' || e.reference)
           or not exists (select 1 from usage u join holds h on h.id = u.hold_id
                          where u.request_id = e.reference and u.user_id = e.user_id and h.status = 'settled'))
    limit 100`.execute(db);
  for (const r of orphans.rows) {
    violations.push({ invariant: 3, detail: `ledger entry ${r.id}: usage deduction for ${r.reference} has no settled usage row` });
  }
  const unrecorded = await sql<{ id: number; request_id: string }>`
    select h.id, h.request_id from holds h
    where h.status = 'settled' and not exists (select 1 from usage u where u.request_id = h.request_id)
    limit 100`.execute(db);
  for (const r of unrecorded.rows) {
    violations.push({ invariant: 3, detail: `hold ${r.id} (${r.request_id}) is settled but has no usage row` });
  }
  return violations;
};

/**
 * 3, per month: the stored rollup (monthly_spend, read by spend this month and the caps) is Σ usage
 * charges and the count of calls, per (user, UTC month the hold was placed, model, key; 0 for none),
 * over the settled calls: every settle adds to it (aborted and upstream_error ones too), a void never.
 * The month is computed here rather than in SQL, which has no portable way to name it.
 */
const monthlySpendMatchesUsage: Check = async (db) => {
  const usage = await sql<{ user_id: number; placed_ms: number; model: string; api_key_id: number | null; charged_mc: number }>`
    select h.user_id, h.created_at_ms as placed_ms, h.model, h.api_key_id, u.charged_mc
    from usage u
    join holds h on h.id = u.hold_id
    where h.status = 'settled'`.execute(db);
  const stored = await sql<{ user_id: number; month: string; model: string; api_key_id: number; charged_mc: number; calls: number }>`
    select user_id, month, model, api_key_id, charged_mc, calls from monthly_spend`.execute(db);
  const groupKey = (userId: number, month: string, model: string, keyId: number) => JSON.stringify([Number(userId), month, model, Number(keyId)]);
  const expected = new Map<string, { chargedMc: number; calls: number }>();
  for (const r of usage.rows) {
    const key = groupKey(r.user_id, utcMonth(Number(r.placed_ms)), r.model, r.api_key_id ?? 0);
    const sum = expected.get(key) ?? { chargedMc: 0, calls: 0 };
    sum.chargedMc += Number(r.charged_mc);
    sum.calls += 1;
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

/** 5. usage rows keep the rates that were applied: those of the rate version their hold was placed at. */
const usageKeepsRates: Check = async (db) => {
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
const auditChecks: Check[] = [balancesMatchLedger, holdsWithinBalance, usageMatchesLedger, monthlySpendMatchesUsage, purchasesCreditedOnce, usageKeepsRates];

export async function audit(db: DB): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const check of auditChecks) violations.push(...(await check(db)));
  return violations;
}
