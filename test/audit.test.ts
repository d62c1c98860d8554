// `audit` finds each invariant (docs/architecture.md, Invariants) when it is broken on purpose behind the ledger's back.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import { rawSqlite } from '../src/db/connect.ts';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { expireHolds, placeHold, settleHold, voidHold } from '../src/ledger/holds.ts';
import { freshDb, makeUser, rateOf, type TestDb } from './helpers/db.ts';
import { TEST_BACKEND } from './helpers/backend.ts';
import { rejects } from './helpers/assert.ts';

const broken = suite<{ t: TestDb; userId: number }>('audit');

// Every scenario starts from a clean, realistic history: two grants, a settled call, a pending hold.
broken.before.each(async (context) => {
  const t = await freshDb();
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 50_000, reason: 'a' });
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 25_000, reason: 'b' });
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const settled = await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: 'req_settled', rate, roundingMode: 'exact', amountMc: 20_000, ttlMs: 60_000 });
  await settleHold(t.db, t.clock, settled.id, { tokens: { inputTokens: 1_000, cachedInputTokens: 0, outputTokens: 1_000 }, status: 'ok', estimated: false, latencyMs: 3 });
  await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: 'req_pending', rate, roundingMode: 'exact', amountMc: 5_000, ttlMs: 60_000 });
  assert.equal(await audit(t.db), [], 'clean before it is broken');
  context.t = t;
  context.userId = user.id;
});
broken.after.each(async ({ t }) => t.close());

async function invariantsBroken(t: TestDb): Promise<number[]> {
  return [...new Set((await audit(t.db)).map((v) => v.invariant))].sort();
}

broken('1: a wallet balance that differs from the sum of its entries', async ({ t }) => {
  await sql`update wallets set balance_mc = balance_mc + 1`.execute(t.db);
  assert.equal(await invariantsBroken(t), [1]);
});

broken('1: an entry whose balance_after is not the running sum', async ({ t }) => {
  await sql`update ledger_entries set balance_after_mc = balance_after_mc - 7 where reference = 'b'`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [1]);
  assert.match(violations[0]!.detail, /running sum/);
});

broken('2: held that is not the sum of pending holds', async ({ t }) => {
  await sql`update wallets set held_mc = 4000`.execute(t.db);
  assert.equal(await invariantsBroken(t), [2]);
});

broken('2: held above the balance (the CHECK constraint stops it; audit still reports it)', async ({ t }) => {
  if (TEST_BACKEND === 'sqlite') {
    const sqlite = rawSqlite(t.db);
    assert.throws(() => sqlite.prepare('update wallets set held_mc = balance_mc + 1').run(), /CHECK/);
    sqlite.pragma('ignore_check_constraints = ON');
    sqlite.prepare('update wallets set held_mc = balance_mc + 1').run();
    sqlite.prepare("update holds set amount_mc = (select held_mc from wallets) where request_id = 'req_pending'").run();
  } else {
    // PostgreSQL cannot ignore a CHECK: this test's database drops it.
    await rejects(() => sql`update wallets set held_mc = balance_mc + 1`.execute(t.db), /wallets_held_within_balance/);
    await sql`alter table wallets drop constraint wallets_held_within_balance`.execute(t.db);
    await sql`update wallets set held_mc = balance_mc + 1`.execute(t.db);
    await sql`update holds set amount_mc = (select held_mc from wallets) where request_id = 'req_pending'`.execute(t.db);
  }
  const violations = await audit(t.db);
  assert.ok(violations.some((v) => v.invariant === 2 && /0 ≤ held ≤ balance/.test(v.detail)), JSON.stringify(violations));
});

broken('3: a settled usage row whose ledger entry is missing', async ({ t }) => {
  await sql`delete from ledger_entries where type = 'usage'`.execute(t.db);
  assert.ok((await invariantsBroken(t)).includes(3));
});

broken('3: a usage row charged differently from its ledger entry', async ({ t }) => {
  await sql`update usage set charged_mc = charged_mc + 1`.execute(t.db);
  assert.equal(await invariantsBroken(t), [3]);
});

broken('3: a usage deduction with no usage row behind it', async ({ t, userId }) => {
  await sql`insert into ledger_entries (user_id, type, amount_mc, balance_after_mc, reference, idempotency_key, created_at_ms)
            values (${userId}, 'usage', 0, 63000, 'req_ghost', 'usage:req_ghost', 1)`.execute(t.db);
  assert.equal(await invariantsBroken(t), [3]);
});

// A usage entry written behind the ledger's back as the ledger writes them: the wallet, the running
// balance and (optionally) the monthly rollup moved with it, so only the hold's books are off.
async function appendUsageEntry(t: TestDb, userId: number, requestId: string, amountMc: number): Promise<void> {
  const { balance_mc } = await t.db.selectFrom('wallets').select('balance_mc').where('user_id', '=', userId).executeTakeFirstOrThrow();
  const balanceAfterMc = Number(balance_mc) + amountMc;
  await sql`insert into ledger_entries (user_id, type, amount_mc, balance_after_mc, reference, idempotency_key, created_at_ms)
            values (${userId}, 'usage', ${amountMc}, ${balanceAfterMc}, ${requestId}, ${`usage:${requestId}`}, ${t.clock.now()})`.execute(t.db);
  await sql`update wallets set balance_mc = ${balanceAfterMc} where user_id = ${userId}`.execute(t.db);
}

broken('3: a second usage row on a settled hold, with its own matching entry and rollup, is reported', async ({ t, userId }) => {
  // A copy of req_settled's usage row under a new request id, charged through a matching usage
  // entry, counted in the rollup: every sum agrees, yet the settled hold now has two usage rows.
  const { charged_mc } = await t.db.selectFrom('usage').select('charged_mc').where('request_id', '=', 'req_settled').executeTakeFirstOrThrow();
  const columns = 'user_id, hold_id, api_key_id, model, input_tokens, cached_input_tokens, output_tokens, input_mc_per_1k, cached_input_mc_per_1k, output_mc_per_1k, rounding_mode, hold_mc, charged_mc, shortfall_mc, status, estimated, latency_ms, upstream_response_id';
  await sql`insert into usage (request_id, created_at_ms, ${sql.raw(columns)})
            select 'req_copy', ${t.clock.now()}, ${sql.raw(columns)} from usage where request_id = 'req_settled'`.execute(t.db);
  await appendUsageEntry(t, userId, 'req_copy', -Number(charged_mc));
  await sql`update monthly_spend set charged_mc = charged_mc + ${charged_mc}, calls = calls + 1`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [3]);
  assert.ok(violations.some((v) => /usage req_copy is attached to hold \d+ of req_settled/.test(v.detail)), JSON.stringify(violations));
});

broken('3: another call\'s usage row moved onto a settled hold is reported', async ({ t, userId }) => {
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const other = await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId: 'req_other', rate, roundingMode: 'exact', amountMc: 20_000, ttlMs: 60_000 });
  await settleHold(t.db, t.clock, other.id, { tokens: { inputTokens: 500, cachedInputTokens: 0, outputTokens: 500 }, status: 'ok', estimated: false, latencyMs: 3 });
  assert.equal(await audit(t.db), []);
  await sql`update usage set hold_id = (select id from holds where request_id = 'req_settled') where request_id = 'req_other'`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal(violations.map((v) => v.invariant), [3]);
  assert.match(violations[0]!.detail, /^usage req_other is attached to hold \d+ of req_settled/);
});

broken('3: a settled hold missing its usage row is reported', async ({ t }) => {
  await sql`delete from usage where request_id = 'req_settled'`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [3]);
  assert.ok(violations.some((v) => /hold \d+ \(req_settled\) is settled but has no usage row/.test(v.detail)), JSON.stringify(violations));
});

broken('3: a settled hold missing its ledger entry (balances moved to match) is reported', async ({ t }) => {
  // The usage entry is the newest: removing it and giving its amount back leaves invariant 1 intact.
  await sql`update wallets set balance_mc = balance_mc - (select amount_mc from ledger_entries where type = 'usage')`.execute(t.db);
  await sql`delete from ledger_entries where type = 'usage'`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal(violations.map((v) => v.invariant), [3]);
  assert.match(violations[0]!.detail, /^usage req_settled: charged \d+ mc but its usage entry is missing$/);
});

broken('3: a usage entry of another amount than its usage row (balances moved to match) is reported', async ({ t }) => {
  await sql`update ledger_entries set amount_mc = amount_mc - 1, balance_after_mc = balance_after_mc - 1 where type = 'usage'`.execute(t.db);
  await sql`update wallets set balance_mc = balance_mc - 1`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal(violations.map((v) => v.invariant), [3]);
  const [, chargedMc, entryMc] = /^usage req_settled: charged (\d+) mc at \d+ but its usage entry is usage of (-\d+) mc/.exec(violations[0]!.detail) ?? [];
  assert.is(Number(entryMc), -Number(chargedMc) - 1, violations[0]!.detail);
});

broken('3: a voided hold (its upstream error recorded at 0) with a usage entry is reported', async ({ t, userId }) => {
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const hold = await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId: 'req_voided', rate, roundingMode: 'exact', amountMc: 2_000, ttlMs: 60_000 });
  await voidHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 0 }, status: 'upstream_error', estimated: true, latencyMs: 1 });
  assert.equal(await audit(t.db), [], 'a voided call recorded at 0 with no entry is legal');
  await appendUsageEntry(t, userId, 'req_voided', -1_000);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [3]);
  assert.ok(violations.some((v) => /hold \d+ \(req_voided\) is voided yet has usage entry \d+ of -1000 mc/.test(v.detail)), JSON.stringify(violations));
});

broken('3: an expired hold with a usage entry is reported', async ({ t, userId }) => {
  t.clock.advance(61_000);
  assert.is(await expireHolds(t.db, t.clock), 1);
  assert.equal(await audit(t.db), []);
  await appendUsageEntry(t, userId, 'req_pending', -1_000);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [3]);
  assert.ok(violations.some((v) => /hold \d+ \(req_pending\) is expired yet has usage entry \d+ of -1000 mc/.test(v.detail)), JSON.stringify(violations));
});

broken('3: the clean books keep a clean rollup: aborted and erred settles count, a void does not, a call counts in its hold\'s month', async ({ t, userId }) => {
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const outcome = (status: 'aborted' | 'upstream_error') => ({ tokens: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 10 }, status, estimated: true, latencyMs: 1 });
  const hold = (requestId: string) => placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId, rate, roundingMode: 'exact', amountMc: 2_000, ttlMs: 60 * 60_000 });
  await settleHold(t.db, t.clock, (await hold('req_aborted')).id, outcome('aborted'));
  await voidHold(t.db, t.clock, (await hold('req_voided')).id, outcome('upstream_error'));
  t.clock.set(Date.UTC(2026, 10, 30, 23, 59));
  const late = await hold('req_late');
  t.clock.set(Date.UTC(2026, 11, 1, 0, 1));
  await settleHold(t.db, t.clock, late.id, outcome('upstream_error'));
  const rollup = await t.db.selectFrom('monthly_spend').select(['month', 'calls']).orderBy('month').execute();
  assert.equal(rollup.map((r) => [r.month, Number(r.calls)]), [['2026-11', 3]]);
  assert.equal(await audit(t.db), []);
});

broken('3: a monthly rollup that differs from the settled usage rows', async ({ t }) => {
  await sql`update monthly_spend set charged_mc = charged_mc + 1`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [3]);
  assert.match(violations[0]!.detail, /monthly spend of user \d+, 2026-11, gpt-4o-mini, key 0: \d+ mc in 1 calls but settled usage is/);
});

broken('3: a monthly rollup that miscounts calls, or is missing', async ({ t }) => {
  await sql`update monthly_spend set calls = calls + 1`.execute(t.db);
  assert.equal(await invariantsBroken(t), [3]);
  await sql`delete from monthly_spend`.execute(t.db);
  const violations = await audit(t.db);
  assert.equal([...new Set(violations.map((v) => v.invariant))], [3]);
  assert.match(violations[0]!.detail, /missing, but settled usage is \d+ mc in 1 calls/);
});

broken('5: an old rate version edited after it was applied', async ({ t }) => {
  await sql`update rates set output_mc_per_1k = 1 where model = 'gpt-4o-mini'`.execute(t.db);
  assert.equal(await invariantsBroken(t), [5]);
});

broken.run();
