// The seeded simulation (sim/), a short fixed-seed sample on this run's backend: two small trials
// (2 app processes on one fresh database, a random mix with a kill, purchases, a refund, a dispute,
// settings and key limits) end with every invariant holding; a seed gives the same schedule; and the
// checker does report a broken promise.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeSchedule, type TrialSize } from '../sim/schedule.ts';
import { runTrial } from '../sim/trial.ts';
import { checkInvariants } from '../sim/invariants.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold } from '../src/ledger/holds.ts';
import { freshDb, makeUser, rateOf } from './helpers/db.ts';

const SIZE: TrialSize = { processes: 2, users: 2, operations: 25, spreadMs: 1_000 };
const sim = suite('seeded simulation');

for (const seed of [14, 15]) {
  sim(`trial of seed ${seed}: every invariant holds`, async () => {
    const kinds = new Set(makeSchedule(seed, SIZE).operations.map((op) => (op.kind === 'purchase' ? `purchase-${op.after.kind}` : op.kind)));
    assert.ok(['kill', 'purchase-refund', 'call', 'settings', 'key-limits'].every((kind) => kinds.has(kind)), `seed ${seed}'s mix: ${[...kinds]}`);
    const result = await runTrial(seed, SIZE);
    assert.equal(result.violations, [], `seed ${seed}: ${result.violations.join('\n')}`);
    assert.ok((result.outcomes.success ?? 0) > 0, `some calls succeeded: ${JSON.stringify(result.outcomes)}`);
  });
}

sim('a seed gives the same schedule; another seed another', () => {
  assert.equal(makeSchedule(99, SIZE), makeSchedule(99, SIZE));
  assert.not.equal(makeSchedule(99, SIZE).operations, makeSchedule(100, SIZE).operations);
});

sim('the checker reports a success never charged, a paid purchase not credited and a hold a live process left', async () => {
  const t = await freshDb();
  try {
    const user = await makeUser(t.db, t.clock);
    await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'sim' });
    await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: 'req_left', rate: await rateOf(t.db, 'gpt-4o-mini'), roundingMode: 'exact', amountMc: 1_000, ttlMs: 0 });
    const users = [{ userId: user.id, apiKeyId: 0, key: '', cookie: '' }];
    const seen = {
      calls: [{ op: 0, user: 0, requestId: 'req_never_settled', outcome: 'success' as const, status: 200 }],
      purchases: [{ op: 1, user: 0, sessionId: 'cs_never_credited', paid: true, refundedCents: 0, disputeStatus: null }],
      problems: [],
      killed: false,
    };
    const violations = await checkInvariants(t.db, users, seen, { pendingAtStop: 1, leftPending: 1, expired: 0 });
    const invariants = violations.map((v) => v.slice(0, v.indexOf(':')));
    assert.equal(invariants, ['holds leaked', 'holds ended', 'nothing held', 'purchase credited once', 'purchase recorded', 'success charged'], violations.join('\n'));
  } finally {
    await t.close();
  }
});

sim.run();
