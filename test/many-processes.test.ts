// Three OS processes on one database, each with a pool of 8 connections on PostgreSQL (READ COMMITTED,
// transactions side by side: the ledger's wallet locks and guarded updates are what keep it right) and
// SQLite's one connection otherwise: holds raced on one wallet, and holds ended by settles, voids and
// the sweeper all at once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { freshDb, makeUser, rateOf, type TestDb } from './helpers/db.ts';
import { killAll, resultsOf, startTogether } from './helpers/processes.ts';

const WORKER = 'test/workers/pool-worker.ts';
const PROCESSES = 3;
const many = suite<{ t: TestDb }>('three processes, one database');
many.before.each(async (context) => {
  context.t = await freshDb();
});
many.after.each(async (context) => {
  killAll();
  await context.t.close();
});

async function runTogether<R>(args: (index: number) => string[]): Promise<R[]> {
  return resultsOf<R>(await startTogether(WORKER, PROCESSES, args));
}

many('holds from 3 processes × 8 connections on one wallet: exactly k succeed, the rest are refused, audit clean', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  // The balance covers exactly 40 holds of 4,000 mc; each process tries 30, half alone, half grouped.
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 160_000, reason: 'race' });
  const results = await runTogether<{ succeeded: number; refused: number; errors: string[] }>(() => ['holds', t.databaseUrl, String(user.id), '30', '4000']);
  assert.equal(results.flatMap((r) => r.errors), [], 'no error other than insufficient credits');
  assert.is(results.reduce((sum, r) => sum + r.succeeded, 0), 40);
  assert.is(results.reduce((sum, r) => sum + r.refused, 0), 50);
  assert.equal(await walletSummary(t.db, user.id), { balanceMc: 160_000, heldMc: 160_000, availableMc: 0, heldCalls: 40 });
  assert.equal(await audit(t.db), []);
});

many('settles, voids and the sweeper in 3 processes race over 240 holds of 4 users: every hold ends once, held = Σ pending, audit clean', async ({ t }) => {
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const users = await Promise.all(Array.from({ length: 4 }, () => makeUser(t.db, t.clock)));
  for (const user of users) await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'race' });
  const startMs = t.clock.now();
  // Holds fall due 5 ms apart on the workers' clock, which runs from startMs at real speed, so the
  // sweeper expires them while the settles and voids are ending them (and a late settle still charges).
  const holdIds: number[] = [];
  for (let i = 0; i < 240; i++) {
    const user = users[i % users.length]!;
    const hold = await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: `end_${i}`, rate, roundingMode: 'exact', amountMc: 1_000, ttlMs: 0 });
    holdIds.push(hold.id);
    t.clock.advance(5);
  }
  type Ending = 'settled' | 'voided' | 'ended';
  const results = await runTogether<{ endings: Record<string, Ending>; expired: number; errors: string[] }>((index) => ['end', t.databaseUrl, String(startMs), String(index), holdIds.join(',')]);
  assert.equal(results.flatMap((r) => r.errors), [], 'no error other than "already ended"');

  const rows = await t.db.selectFrom('holds').select(['id', 'status']).execute();
  const statusOf = new Map(rows.map((row) => [row.id, row.status]));
  for (const id of holdIds) {
    const endings = results.map((r) => r.endings[id]);
    const ended = endings.filter((ending) => ending !== 'ended');
    assert.is(ended.length, 1, `hold ${id} ended once, not ${JSON.stringify(endings)}`);
    assert.is(statusOf.get(id), ended[0], `hold ${id} is ${statusOf.get(id)}, as the process that ended it said`);
  }
  const expired = results.reduce((sum, r) => sum + r.expired, 0);
  assert.ok(expired <= holdIds.length, `${expired} expiries of ${holdIds.length} holds`);
  const settled = holdIds.filter((id) => statusOf.get(id) === 'settled').length;
  const usage = await t.db.selectFrom('usage').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(usage.n), settled, 'one usage row per settled hold');
  for (const user of users) {
    const wallet = await walletSummary(t.db, user.id);
    assert.equal([wallet.heldMc, wallet.heldCalls], [0, 0], `user ${user.id}: nothing held once every hold ended`);
  }
  assert.equal(await audit(t.db), []);
});

many.run();
