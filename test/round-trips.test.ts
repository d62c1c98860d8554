// The PostgreSQL hot path's round trips, counted at the pool (src/db/postgres.ts): a hold alone costs 4
// (begin with its wallet lock, the policy's read, the reservation with its row, commit), a settle of the
// hold the process placed 5 (begin with the lock, the read, one statement for every row it writes, the
// daily rollup, commit), and a group of 16 holds and 16 settles on one wallet 2.4 a pair. Each
// charge is still exact and audit clean. On SQLite there are none to count: registered on PostgreSQL only.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import { audit } from '../src/audit.ts';
import { loadDatabaseConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { postgresRoundTrips } from '../src/db/postgres.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { createHoldBatcher } from '../src/ledger/hold-batch.ts';
import { placeHold, settleHold, type CallOutcome } from '../src/ledger/holds.ts';
import { createSettleBatcher } from '../src/ledger/settle-batch.ts';
import { costMc } from '../src/pricing/cost.ts';
import { TEST_BACKEND } from './helpers/backend.ts';
import { freshDb, makeUser, rateOf } from './helpers/db.ts';

const test = suite('round trips');
const outcome: CallOutcome = { tokens: { inputTokens: 200, cachedInputTokens: 0, outputTokens: 100 }, status: 'ok', estimated: false, latencyMs: 1 };

/** The round trips `work` made (nothing else of this process runs meanwhile). */
async function counted<T>(work: () => Promise<T>): Promise<{ result: T; roundTrips: number }> {
  const before = postgresRoundTrips();
  const result = await work();
  return { result, roundTrips: postgresRoundTrips() - before };
}

if (TEST_BACKEND === 'postgres') {
  test('a hold alone is 4 round trips and the settle of it 5, charged exactly', async () => {
    const t = await freshDb('full');
    try {
      const rate = await rateOf(t.db, 'gpt-4o-mini');
      const user = await makeUser(t.db, t.clock);
      await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'test' });
      const input = { userId: user.id, apiKeyId: null, requestId: 'req_alone', rate, roundingMode: 'exact' as const, ttlMs: 600_000 };
      const hold = await counted(() => placeHold(t.db, t.clock, { ...input, amountMc: 200_000 }));
      assert.is(hold.roundTrips, 4);
      const settler = createSettleBatcher(t.db, t.clock);
      const settled = await counted(() => settler.settle(hold.result.id, outcome, hold.result));
      assert.is(settled.roundTrips, 5);
      assert.is(settled.result.chargedMc, costMc(outcome.tokens, rate, 'exact'));
      const wallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.equal([wallet.balance_mc, wallet.held_mc], [1_000_000 - settled.result.chargedMc, 0]);
      assert.equal(await audit(t.db), []);
    } finally {
      await t.close();
    }
  });

  test('16 holds and their 16 settles on one wallet, each grouped: 39 round trips (2.4 a pair), each charged exactly', async () => {
    const t = await freshDb('full');
    try {
      const rate = await rateOf(t.db, 'gpt-4o-mini');
      const user = await makeUser(t.db, t.clock);
      await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000_000, reason: 'test' });
      const holds = createHoldBatcher(t.db, t.clock, { alone: () => false });
      const settler = createSettleBatcher(t.db, t.clock, { alone: () => false });
      const placed = await counted(() =>
        Promise.all(
          Array.from({ length: 16 }, (_, index) =>
            holds.place({ userId: user.id, apiKeyId: null, requestId: `req_group_${index}`, rate, roundingMode: 'exact', ttlMs: 600_000, amountFor: () => 200_000 }),
          ),
        ),
      );
      // begin with the lock, one read, one statement a hold, commit.
      assert.is(placed.roundTrips, 1 + 1 + 16 + 1);
      const settled = await counted(() => Promise.all(placed.result.map((hold) => settler.settle(hold.id, outcome, hold))));
      // begin with the lock, one read (carried from settle to settle: src/ledger/group-state.ts), a statement a settle, the daily rollup, commit.
      assert.is(settled.roundTrips, 1 + 1 + 16 + 1 + 1);
      assert.equal([holds.stats.commits, settler.stats.commits], [1, 1]);
      const chargedMc = settled.result.reduce((sum, result) => sum + result.chargedMc, 0);
      assert.is(chargedMc, 16 * costMc(outcome.tokens, rate, 'exact'));
      const wallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.equal([wallet.balance_mc, wallet.held_mc], [10_000_000 - chargedMc, 0]);
      assert.equal(await audit(t.db), []);
    } finally {
      await t.close();
    }
  });

  // Planning a statement cost more than running it (src/db/postgres.ts): the hot path's fixed texts
  // are named, so each connection plans them once; DATABASE_PREPARED_STATEMENTS=off (PgBouncer before
  // 1.21) names none, and the same charges come out.
  for (const setting of ['on', 'off'] as const) {
    test(`DATABASE_PREPARED_STATEMENTS=${setting}: the hot path's statements ${setting === 'on' ? 'are named, planned once per connection' : 'are left unnamed'}; charges exact`, async () => {
      const t = await freshDb('full');
      // One connection, so the session whose prepared statements are listed is the one that ran them.
      const db = openDatabase(loadDatabaseConfig({ DATABASE_URL: t.databaseUrl, DATABASE_POOL_SIZE: '1', DATABASE_PREPARED_STATEMENTS: setting }));
      try {
        const rate = await rateOf(db, 'gpt-4o-mini');
        const user = await makeUser(db, t.clock);
        await grantCredits(db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'test' });
        let chargedMc = 0;
        for (let i = 0; i < 3; i++) {
          const hold = await placeHold(db, t.clock, { userId: user.id, apiKeyId: null, requestId: `req_named_${i}`, rate, roundingMode: 'exact', ttlMs: 600_000, amountMc: 200_000 });
          chargedMc += (await settleHold(db, t.clock, hold.id, outcome)).chargedMc;
        }
        const prepared = await sql<{ name: string; calls: number; statement: string }>`select name, generic_plans + custom_plans as calls, statement from pg_prepared_statements where name like 'tokentab_%'`.execute(db);
        if (setting === 'on') {
          assert.ok(prepared.rows.length >= 3, `named statements: ${prepared.rows.length}`);
          // Three holds and settles: the limits read, among others, ran on one prepared statement each time.
          assert.ok(prepared.rows.some((row) => Number(row.calls) >= 3), JSON.stringify(prepared.rows));
          // A `select *` (the settle's read of its hold) stays unnamed: a migration adding a column would break its plan.
          assert.equal(prepared.rows.filter((row) => /select \*/i.test(row.statement)).map((row) => row.statement), []);
        } else assert.equal(prepared.rows, []);
        assert.is(chargedMc, 3 * costMc(outcome.tokens, rate, 'exact'));
        const wallet = await db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
        assert.equal([wallet.balance_mc, wallet.held_mc], [1_000_000 - chargedMc, 0]);
        assert.equal(await audit(db), []);
      } finally {
        await db.destroy();
        await t.close();
      }
    });
  }
}

test.run();
