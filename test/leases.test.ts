// The lease primitives on each backend, in one process with a manual clock: a job lease taken by one
// holder at a time and lost after its term; a lapsed process lease's pending holds expired once
// (held = Σ pending), a renewed one left alone, and a process that finds its lease gone opening a new one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { openProcessLease, renewProcessLease, takeJobLease, type LeaseRef } from '../src/db/leases.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold, releaseHoldsOfLapsedLease, settleHold } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { reapLapsedLeases, startProcessLease } from '../src/jobs/process-lease.ts';
import { freshDb, makeUser, rateOf, type TestDb } from './helpers/db.ts';

const leases = suite<{ t: TestDb }>('leases');
leases.before.each(async (context) => {
  context.t = await freshDb();
});
leases.after.each(async ({ t }) => {
  assert.equal(await audit(t.db), []);
  await t.close();
});

leases('a job lease: one holder at a time, renewed by its holder, taken by another only once lapsed', async ({ t }) => {
  const now = t.clock.now();
  assert.is(await takeJobLease(t.db, 'sweep', 'a', now, 1_000), true);
  assert.is(await takeJobLease(t.db, 'sweep', 'b', now + 999, 1_000), false, 'held by a');
  assert.is(await takeJobLease(t.db, 'other', 'b', now + 999, 1_000), true, 'another job is its own lease');
  assert.is(await takeJobLease(t.db, 'sweep', 'a', now + 999, 1_000), true, 'renewed by a, to now + 1999');
  assert.is(await takeJobLease(t.db, 'sweep', 'b', now + 1_500, 1_000), false);
  assert.is(await takeJobLease(t.db, 'sweep', 'b', now + 1_999, 1_000), true, 'lapsed: b takes it');
  assert.is(await takeJobLease(t.db, 'sweep', 'a', now + 2_000, 1_000), false, 'a lost it');
  // Racing for a lapsed lease: exactly one of ten wins.
  const won = await Promise.all(Array.from({ length: 10 }, (_, i) => takeJobLease(t.db, 'sweep', `r${i}`, now + 5_000, 1_000)));
  assert.is(won.filter(Boolean).length, 1);
});

leases('a lapsed process lease: its pending holds expired once (of 3 reapers one does it), others untouched, held = Σ pending', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000, reason: 'leases' });
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const dead = await openProcessLease(t.db, 'dead', t.clock.now(), 5_000);
  const live = await openProcessLease(t.db, 'live', t.clock.now(), 5_000);
  const hold = (requestId: string, leaseId: number | null) =>
    placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId, rate, roundingMode: 'exact', amountMc: 10_000, ttlMs: 600_000, leaseId });
  const deadHolds = [await hold('d1', dead), await hold('d2', dead), await hold('d3', dead)];
  await hold('l1', live);
  await hold('none', null);
  await settleHold(t.db, t.clock, deadHolds[2]!.id, { tokens: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10 }, status: 'ok', estimated: false, latencyMs: 1 });

  t.clock.advance(4_000);
  assert.is(await releaseHoldsOfLapsedLease(t.db, t.clock, dead), null, 'not lapsed yet');
  t.clock.advance(2_000);
  assert.is(await renewProcessLease(t.db, live, t.clock.now(), 5_000), true);
  const reaped = await Promise.all([0, 1, 2].map(() => releaseHoldsOfLapsedLease(t.db, t.clock, dead)));
  assert.equal(reaped.filter((n) => n !== null), [2], `one reaper expired the 2 pending: ${JSON.stringify(reaped)}`);
  assert.is(await releaseHoldsOfLapsedLease(t.db, t.clock, live), null, 'a renewed lease is not reaped');
  const statuses = await t.db.selectFrom('holds').select(['request_id', 'status']).orderBy('id').execute();
  assert.equal(statuses.map((h) => `${h.request_id}:${h.status}`), ['d1:expired', 'd2:expired', 'd3:settled', 'l1:pending', 'none:pending']);
  assert.equal(await walletSummary(t.db, user.id).then((w) => [w.heldMc, w.heldCalls]), [20_000, 2]);
  assert.is(await renewProcessLease(t.db, dead, t.clock.now(), 5_000), false, 'it has ended: not renewed');
  // A late settle of a reaped hold is still charged (as after the sweeper).
  const late = await settleHold(t.db, t.clock, deadHolds[0]!.id, { tokens: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10 }, status: 'ok', estimated: false, latencyMs: 1 });
  assert.ok(late.chargedMc > 0);
});

leases('a process whose lease was reaped while it stalled opens a new one; reapLapsedLeases skips live leases', async ({ t }) => {
  const lease: LeaseRef = { id: null };
  const log: string[] = [];
  const running = await startProcessLease(t.db, t.clock, lease, { holder: 'me', termMs: 5_000, renewEveryMs: 60_000, log: (line) => log.push(line) });
  try {
    await running.tick(); // the one it runs at start, still going
    const first = lease.id!;
    assert.ok(first > 0);
    t.clock.advance(6_000);
    assert.is(await reapLapsedLeases(t.db, t.clock, () => {}), 0, 'nothing held under it');
    const reaped = await t.db.selectFrom('process_leases').select('ended_at_ms').where('id', '=', first).executeTakeFirstOrThrow();
    assert.is(reaped.ended_at_ms, t.clock.now(), 'reaped');
    await running.tick();
    assert.ok(lease.id !== null && lease.id !== first, `a new lease, ${lease.id}`);
    assert.match(log.join('\n'), /had lapsed/);
    t.clock.advance(1_000);
    await running.tick();
    assert.is(await reapLapsedLeases(t.db, t.clock, () => {}), 0);
    const renewed = await t.db.selectFrom('process_leases').selectAll().where('id', '=', lease.id!).executeTakeFirstOrThrow();
    assert.equal([renewed.ended_at_ms, renewed.expires_at_ms], [null, t.clock.now() + 5_000], 'the new one lives');
  } finally {
    await running.stop();
  }
  const live = await t.db.selectFrom('process_leases').select('id').where('ended_at_ms', 'is', null).execute();
  assert.equal(live, [], 'a clean stop ends it');
});

leases.run();
