// Real concurrency on one database (a SQLite file, or PostgreSQL): two OS processes racing holds, a
// negative control that shows the race can be lost, 2 × 500 full charge cycles, and a process killed
// with SIGKILL mid-run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { expireHolds } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { ManualClock } from '../src/clock.ts';
import { freshDb, makeUser, type TestDb } from './helpers/db.ts';
import { openTestDatabase } from './helpers/backend.ts';
import { killAll, startWorker, type Worker } from './helpers/processes.ts';

const WORKER = 'test/workers/ledger-worker.ts';
const concurrency = suite<{ t: TestDb }>('two processes, one database file');
concurrency.before.each(async (context) => {
  context.t = await freshDb();
});
concurrency.after.each(async (context) => {
  killAll();
  await context.t.close();
});

async function startTogether(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.waitFor('ready')));
  for (const w of workers) w.child.stdin!.write('go\n');
}

interface RaceResult {
  succeeded: number;
  refused: number;
  errors: string[];
}

async function race(t: TestDb, unsafe: boolean): Promise<{ results: RaceResult[]; userId: number }> {
  const user = await makeUser(t.db, t.clock);
  // The balance covers exactly 25 holds of 4,000 mc; each process tries 30.
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000, reason: 'race' });
  const args = (extra: string[]) => ['race-holds', t.databaseUrl, String(user.id), '30', '4000', ...extra];
  const workers = [startWorker(WORKER, args(unsafe ? ['unsafe'] : [])), startWorker(WORKER, args(unsafe ? ['unsafe'] : []))];
  await startTogether(workers);
  const results = (await Promise.all(workers.map((w) => w.waitFor('result ')))).map((json) => JSON.parse(json) as RaceResult);
  return { results, userId: user.id };
}

concurrency('holds raced by two processes: exactly k succeed, no SQLITE_BUSY escapes, audit clean', async ({ t }) => {
  const { results, userId } = await race(t, false);
  assert.equal(results.flatMap((r) => r.errors), [], 'no error other than insufficient credits');
  assert.is(results[0]!.succeeded + results[1]!.succeeded, 25);
  assert.is(results[0]!.refused + results[1]!.refused, 35);
  assert.equal(await walletSummary(t.db, userId), { balanceMc: 100_000, heldMc: 100_000, availableMc: 0, heldCalls: 25 });
  assert.equal(await audit(t.db), []);
});

concurrency('negative control: a read-then-write hold raced the same way overspends', async ({ t }) => {
  const { results } = await race(t, true);
  const succeeded = results[0]!.succeeded + results[1]!.succeeded;
  assert.ok(succeeded > 25, `the unsafe hold let ${succeeded} holds through a balance that covers 25`);
  const violations = await audit(t.db);
  assert.ok(violations.some((v) => v.invariant === 2), 'audit sees held ≠ Σ pending holds');
});

concurrency('two processes × 500 grant + hold + settle cycles: the balance is exact, audit clean', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  const workers = [0, 1].map(() => startWorker(WORKER, ['cycles', t.databaseUrl, String(user.id), '500', '4']));
  await startTogether(workers);
  const results = await Promise.all(workers.map((w) => w.waitFor('result ', 180_000)));
  assert.equal(results.map((r) => JSON.parse(r).done), [500, 500]);
  // Each cycle grants 1,000 mc and is charged 10 in + 10 out on gpt-4o-mini = 120 mc.
  const wallet = await walletSummary(t.db, user.id);
  assert.equal(wallet, { balanceMc: 1_000 * 880, heldMc: 0, availableMc: 880_000, heldCalls: 0 });
  const usage = await t.db.selectFrom('usage').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(usage.n), 1_000);
  assert.equal(await audit(t.db), []);
});

concurrency('a process killed with SIGKILL mid-run: audit clean after restart, its holds voided once expired', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  // Besides the cycles, one call whose upstream never answers: whenever the kill lands, at least its
  // hold is pending (the cycles' own holds are pending for about a millisecond each).
  const worker = startWorker(WORKER, ['cycles', t.databaseUrl, String(user.id), '1000000', '8', 'slow-call']);
  await startTogether([worker]);
  await worker.waitFor('slow call held', 120_000);
  await worker.waitFor('progress 300', 120_000);
  worker.child.kill('SIGKILL');
  await worker.exited;

  // "Restart": a new connection to the database the dead process left.
  const reopened = openTestDatabase(t.databaseUrl);
  try {
    assert.equal(await audit(reopened), [], 'no torn write: every committed transaction is whole');
    const before = await walletSummary(reopened, user.id);
    assert.ok(before.heldCalls >= 1, `the killed process left ${before.heldCalls} holds open`);
    const clock = new ManualClock(Date.now() + 60_000);
    assert.is(await expireHolds(reopened, clock), before.heldCalls);
    const after = await walletSummary(reopened, user.id);
    assert.equal({ heldMc: after.heldMc, heldCalls: after.heldCalls, balanceMc: after.balanceMc }, { heldMc: 0, heldCalls: 0, balanceMc: before.balanceMc });
    assert.equal(await audit(reopened), []);
  } finally {
    await reopened.destroy();
  }
});

concurrency.run();
