// Grouped settles and holds: concurrent writes share one commit, each charged exactly; a failing one is
// refused alone; a group rolled back by a conflict runs again whole.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import { audit } from '../src/audit.ts';
import { grantCredits, recordCreditIn } from '../src/ledger/credits.ts';
import { createGroupCommit } from '../src/ledger/group-commit.ts';
import { HoldAlreadyEndedError, HoldNotFoundError } from '../src/ledger/errors.ts';
import { placeHold, settleHold, type CallOutcome } from '../src/ledger/holds.ts';
import { createHoldBatcher } from '../src/ledger/hold-batch.ts';
import { createSettleBatcher } from '../src/ledger/settle-batch.ts';
import { costMc } from '../src/pricing/cost.ts';
import { rejects } from './helpers/assert.ts';
import { freshDb, makeUser, rateOf } from './helpers/db.ts';
import { openTestDatabase } from './helpers/backend.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { asCallLimits } from '../src/spending-policy/call-limits.ts';
import { assertKeyHasRoom } from '../src/caps/in-flight.ts';

const outcome = (inputTokens: number, outputTokens: number): CallOutcome => ({
  tokens: { inputTokens, cachedInputTokens: 0, outputTokens },
  status: 'ok',
  estimated: false,
  latencyMs: 5,
});

test('30 settles asked for at once are committed in one durable transaction, each charged exactly', async () => {
  const t = await freshDb('full');
  try {
    const rate = await rateOf(t.db, 'gpt-4o');
    const users = await Promise.all([makeUser(t.db, t.clock), makeUser(t.db, t.clock), makeUser(t.db, t.clock)]);
    for (const user of users) await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 50_000_000, reason: 'test' });
    const holds = [];
    for (let index = 0; index < 30; index++) {
      const user = users[index % 3]!;
      holds.push(await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: `req_batch_${index}`, rate, roundingMode: 'exact', amountMc: 1_000_000, ttlMs: 600_000 }));
    }
    const batcher = createSettleBatcher(t.db, t.clock);
    const results = await Promise.all(holds.map((hold, index) => batcher.settle(hold.id, outcome(1_000 + index, 100 + index))));
    assert.equal(batcher.stats, { commits: 1, writes: 30, largestGroup: 30 });
    results.forEach((result, index) => {
      assert.is(result.chargedMc, costMc({ inputTokens: 1_000 + index, cachedInputTokens: 0, outputTokens: 100 + index }, rate, 'exact'));
      assert.is(result.usage.charged_mc, result.chargedMc);
    });
    // Each result is already committed: another connection to the database sees every charge.
    const other = openTestDatabase(t.databaseUrl);
    const seen = (await sql<{ n: number; total: number }>`select count(*) as n, sum(amount_mc) as total from ledger_entries where type = 'usage'`.execute(other)).rows[0]!;
    await other.destroy();
    assert.is(seen.n, 30);
    assert.is(-seen.total, results.reduce((sum, result) => sum + result.chargedMc, 0));
    for (const user of users) {
      const charged = results.filter((_, index) => index % 3 === users.indexOf(user)).reduce((sum, result) => sum + result.chargedMc, 0);
      const wallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.is(wallet.balance_mc, 50_000_000 - charged);
      assert.is(wallet.held_mc, 0);
    }
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test('settles that fail inside a group are refused alone (the group is written again without them); settles asked later form the next group', async () => {
  const t = await freshDb('full');
  try {
    const rate = await rateOf(t.db, 'gpt-4o-mini');
    const user = await makeUser(t.db, t.clock);
    await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000_000, reason: 'test' });
    const place = (requestId: string) => placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId, rate, roundingMode: 'exact', amountMc: 100_000, ttlMs: 600_000 });
    const first = await place('req_a');
    const already = await place('req_b');
    const third = await place('req_c');
    await settleHold(t.db, t.clock, already.id, outcome(10, 10));
    const batcher = createSettleBatcher(t.db, t.clock);
    const settled = [batcher.settle(first.id, outcome(750, 200)), batcher.settle(already.id, outcome(750, 200)), batcher.settle(99_999, outcome(1, 1)), batcher.settle(third.id, outcome(1_000, 1_000))];
    await rejects(() => settled[1]!, HoldAlreadyEndedError);
    await rejects(() => settled[2]!, HoldNotFoundError);
    assert.is((await settled[0]!).chargedMc, 3_720);
    assert.is((await settled[3]!).chargedMc, 12_000);
    assert.equal(batcher.stats, { commits: 1, writes: 2, largestGroup: 2 });
    // One at a time: each waits for the previous, so each is its own commit.
    const fourth = await place('req_d');
    const fifth = await place('req_e');
    await batcher.settle(fourth.id, outcome(1, 1));
    await batcher.settle(fifth.id, outcome(1, 1));
    await batcher.idle();
    assert.is(batcher.stats.commits, 3);
    const entries = await t.db.selectFrom('ledger_entries').select('amount_mc').where('type', '=', 'usage').execute();
    assert.is(entries.length, 5, 'one usage entry per settled hold, none for the failures');
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test('15 holds asked for at once on a wallet that covers 10: each decided on the wallet as the group left it, 10 placed in one commit, 5 refused', async () => {
  const t = await freshDb('full');
  try {
    const rate = await rateOf(t.db, 'gpt-4o-mini');
    const user = await makeUser(t.db, t.clock);
    await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_500, reason: 'test' });
    const batcher = createHoldBatcher(t.db, t.clock);
    const seen: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, (_, index) =>
        batcher.place({
          userId: user.id,
          apiKeyId: null,
          requestId: `req_hold_${index}`,
          rate,
          roundingMode: 'exact',
          ttlMs: 600_000,
          amountFor: (wallet) => {
            seen.push(wallet.availableMc);
            if (wallet.availableMc < 1_000) throw new Error(`only ${wallet.availableMc} mc left`);
            return 1_000;
          },
        }),
      ),
    );
    assert.is(results.filter((result) => result.status === 'fulfilled').length, 10);
    const refusals = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    assert.equal(refusals.map((result) => (result.reason as Error).message), Array(5).fill('only 500 mc left'));
    assert.equal(seen, [10_500, 9_500, 8_500, 7_500, 6_500, 5_500, 4_500, 3_500, 2_500, 1_500, 500, 500, 500, 500, 500]);
    assert.equal(batcher.stats, { commits: 1, writes: 15, largestGroup: 15 });
    const wallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    assert.is(wallet.held_mc, 10_000);
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test('a group of holds reads a wallet once per scope: each hold still decided on the state the ones before it left (held, calls in flight), the key\'s limit of 4 exact', async () => {
  const t = await freshDb('full');
  try {
    const rate = await rateOf(t.db, 'gpt-4o-mini');
    const user = await makeUser(t.db, t.clock);
    await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000, reason: 'test' });
    const { apiKey } = await createApiKey(t.db, t.clock, user.id, 'limited');
    await t.db.updateTable('api_keys').set({ max_in_flight: 4 }).where('id', '=', apiKey.id).execute();
    const batcher = createHoldBatcher(t.db, t.clock);
    const seen: [number, number, number][] = [];
    const place = (index: number, apiKeyId: number | null) =>
      batcher.place({
        userId: user.id,
        apiKeyId,
        requestId: `req_scoped_${index}`,
        rate,
        roundingMode: 'exact',
        ttlMs: 600_000,
        amountFor: (state) => {
          const limits = asCallLimits(state);
          seen.push([limits.heldMc, limits.userInFlight, limits.keyInFlight?.current ?? -1]);
          if (apiKeyId !== null) assertKeyHasRoom(limits.keyInFlight);
          return 1_000;
        },
      });
    // Six through the key, then two without one (another scope of the same wallet), then two through the key again.
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => place(i, apiKey.id)).concat([6, 7].map((i) => place(i, null)), [8, 9].map((i) => place(i, apiKey.id))));
    assert.equal(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    assert.equal(batcher.stats, { commits: 1, writes: 10, largestGroup: 10 });
    assert.equal(seen, [
      [0, 0, 0], [1_000, 1, 1], [2_000, 2, 2], [3_000, 3, 3], [4_000, 4, 4], [4_000, 4, 4],
      [4_000, 4, -1], [5_000, 5, -1],
      [6_000, 6, 4], [6_000, 6, 4],
    ]);
    const wallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    assert.is(wallet.held_mc, 6_000);
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test('a group of settles reads a wallet once: each charged on the wallet as the ones before it left it (a shortfall mid-group exact), the low-balance alert sent once', async () => {
  const t = await freshDb('full');
  try {
    const rate = await rateOf(t.db, 'gpt-4o');
    const user = await makeUser(t.db, t.clock);
    const callCost = costMc({ inputTokens: 10_000, cachedInputTokens: 0, outputTokens: 1_000 }, rate, 'exact');
    // Enough for two and a half calls; the alert at 2 calls' worth, crossed by the first settle.
    await grantCredits(t.db, t.clock, { userId: user.id, amountMc: (5 * callCost) / 2, reason: 'test' });
    await t.db.updateTable('users').set({ low_balance_threshold_mc: 2 * callCost }).where('id', '=', user.id).execute();
    const holds = [];
    for (let index = 0; index < 4; index++) {
      holds.push(await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: `req_short_${index}`, rate, roundingMode: 'exact', amountMc: 1_000, ttlMs: 600_000 }));
    }
    const settler = createSettleBatcher(t.db, t.clock);
    const results = await Promise.all(holds.map((hold) => settler.settle(hold.id, outcome(10_000, 1_000), hold)));
    assert.equal(settler.stats, { commits: 1, writes: 4, largestGroup: 4 });
    // Each settle gives its own hold back, then takes what is available beside the holds still pending.
    assert.equal(
      results.map((result) => [result.chargedMc, result.shortfallMc]),
      [[callCost, 0], [callCost, 0], [callCost / 2 - 1_000, callCost / 2 + 1_000], [1_000, callCost - 1_000]],
    );
    assert.equal(results.map((result) => result.balanceMc), [(3 * callCost) / 2, callCost / 2, 1_000, 0]);
    const wallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    assert.equal([wallet.balance_mc, wallet.held_mc], [0, 0]);
    const mails = await t.db.selectFrom('mail_outbox').select('subject').where('to_address', '=', (await t.db.selectFrom('users').select('email').where('id', '=', user.id).executeTakeFirstOrThrow()).email).execute();
    assert.equal(mails.map((mail) => mail.subject), ['Your tokentab balance is running low']);
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test('a group rolled back by a deadlock (40P01) or a serialization failure (40001) runs again whole: no write refused, each committed once', async () => {
  const t = await freshDb('full');
  try {
    const users = await Promise.all([makeUser(t.db, t.clock), makeUser(t.db, t.clock), makeUser(t.db, t.clock)]);
    const group = createGroupCommit(t.db, t.clock, { alone: () => false, lockWallets: (users) => ({ users }) });
    // The database's own errors, as pg reports them: the second write meets a deadlock on its first
    // run and a serialization failure on its second.
    const conflicts = [Object.assign(new Error('deadlock detected'), { code: '40P01' }), Object.assign(new Error('could not serialize access'), { code: '40001' })];
    let runs = 0;
    const written = await Promise.all(
      users.map((user, index) =>
        group.run(user.id, async (trx, nowMs) => {
          const credit = await recordCreditIn(trx, nowMs, { userId: user.id, type: 'grant', amountMc: 1_000, reference: 'retried', idempotencyKey: `retried:${index}` });
          if (index === 1 && runs++ < conflicts.length) throw conflicts[runs - 1];
          return credit.duplicate;
        }),
      ),
    );
    assert.equal(written, [false, false, false], 'every write done, none a duplicate of a rolled-back run');
    assert.equal(group.stats, { commits: 1, writes: 3, largestGroup: 3 });
    const entries = await t.db.selectFrom('ledger_entries').select(['user_id', 'amount_mc']).orderBy('id').execute();
    assert.equal(entries, users.map((user) => ({ user_id: user.id, amount_mc: 1_000 })));
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test.run();
