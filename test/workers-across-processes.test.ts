// The background work of three OS processes on one database (test/workers/jobs-worker.ts): the mail
// outbox and auto-recharges, claimed row by row (FOR UPDATE SKIP LOCKED on PostgreSQL), are each
// done once; a singleton job under its lease runs once per interval, and when the process holding
// it is killed another takes it over after the lease's term.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { writeTransaction } from '../src/db/transaction.ts';
import { queueMail } from '../src/mail/outbox.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { freshDb, rateOf, type TestDb } from './helpers/db.ts';
import { killAll, resultsOf, startTogether } from './helpers/processes.ts';
import { startSmtp } from './helpers/smtp.ts';
import { assertAuditClean, signedInBuyer, stripeWorld, withSavedCard, STARTER_MC } from './helpers/billing.ts';

const WORKER = 'test/workers/jobs-worker.ts';
const PROCESSES = 3;

const startAll = (args: string[]) => startTogether(WORKER, PROCESSES, () => args);
const runTogether = async <R,>(args: string[]) => resultsOf<R>(await startAll(args), 120_000);

const jobs = suite<{ t: TestDb }>('workers in 3 processes');
jobs.before.each(async (context) => {
  context.t = await freshDb();
});
jobs.after.each(async (context) => {
  killAll();
  await context.t.close();
});

jobs('100 mails, 3 processes delivering the outbox 3 rounds at once each: every mail reaches the SMTP server exactly once', async ({ t }) => {
  const smtp = await startSmtp();
  try {
    await writeTransaction(t.db, async (trx) => {
      for (let i = 0; i < 100; i++) await queueMail(trx, t.clock.now(), { to: `user${i}@example.com`, subject: `mail ${i}`, text: `body ${i}` });
    });
    const results = await runTogether<{ tried: number; errors: string[] }>(['mail', t.databaseUrl, smtp.url, String(t.clock.now())]);
    assert.equal(results.flatMap((r) => r.errors), []);
    assert.is(results.reduce((sum, r) => sum + r.tried, 0), 100, 'each row claimed by one worker once');
    const subjects = smtp.received.map((mail) => mail.subject);
    assert.is(subjects.length, 100, `${subjects.length} mails received`);
    assert.is(new Set(subjects).size, 100, 'no mail twice');
    const statuses = await t.db.selectFrom('mail_outbox').select('status').distinct().execute();
    assert.equal(statuses.map((row) => row.status), ['sent']);
    assert.equal(await audit(t.db), []);
  } finally {
    await smtp.close();
  }
});

jobs('a singleton job in 3 processes runs once per interval; SIGKILL of its holder: another takes it over after the term', async ({ t }) => {
  const everyMs = 300;
  const workers = await startAll(['singleton', t.databaseUrl, String(everyMs)]);
  const runs = () =>
    workers
      .flatMap((w, index) => w.lines.filter((line) => line.startsWith('ran ')).map((line) => ({ index, atMs: Number(line.slice(4)) })))
      .sort((a, b) => a.atMs - b.atMs);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const before = runs();
  assert.equal(workers.flatMap((w) => w.lines.filter((line) => line.startsWith('error'))), []);
  // About one run an interval (the first tick is one interval after the start), never two in one.
  assert.ok(before.length >= 6 && before.length <= 10, `${before.length} runs in 3 s at one per ${everyMs} ms`);
  // Two processes running in one interval would be a few ms apart; a run is stamped after its lease
  // was taken, so one slow take can bring the next run closer by that statement's time.
  for (let i = 1; i < before.length; i++) {
    const gapMs = before[i]!.atMs - before[i - 1]!.atMs;
    assert.ok(gapMs >= everyMs / 2, `runs ${gapMs} ms apart (${JSON.stringify(before.slice(i - 1, i + 1))})`);
  }
  const holder = before.at(-1)!.index;
  const killedAtMs = Date.now();
  workers[holder]!.child.kill('SIGKILL');
  await workers[holder]!.exited;
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const after = runs().filter((run) => run.atMs > killedAtMs);
  assert.ok(after.length >= 2, `${after.length} runs after the kill`);
  assert.ok(after.every((run) => run.index !== holder), 'none by the killed process');
  // Its lease lapsed one term after its last run; the next tick of another process took it.
  assert.ok(after[0]!.atMs - before.at(-1)!.atMs <= 2 * everyMs + 150, `taken over ${after[0]!.atMs - before.at(-1)!.atMs} ms after the last run`);
});

jobs.run();

const recharges = suite('auto-recharge in 3 processes');
recharges.after.each(() => killAll());

recharges('one pending recharge, 3 processes running 3 worker rounds at once each: one PaymentIntent created at Stripe, one credit', async () => {
  const t = await stripeWorld();
  try {
    const buyer = await signedInBuyer(t);
    await withSavedCard(t, buyer);
    // 75,000 output tokens × 80 mc on gpt-4o = 6,000 credits: 4,000 left, below the 5,000 threshold.
    const hold = await placeHold(t.db, t.clock, { userId: buyer.user.id, apiKeyId: null, requestId: 'req_cross', rate: await rateOf(t.db, 'gpt-4o'), roundingMode: 'exact', amountMc: 6_000_000, ttlMs: 600_000 });
    await settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 75_000 }, status: 'ok', estimated: false, latencyMs: 1 });
    const pending = await t.db.selectFrom('auto_recharges').selectAll().execute();
    assert.equal(pending.map((row) => row.status), ['pending']);

    const results = await runTogether<{ outcomes: string[]; errors: string[] }>(['recharge', t.databaseUrl, t.fake.url, String(t.clock.now())]);
    assert.equal(results.flatMap((r) => r.errors), []);
    assert.equal(results.flatMap((r) => r.outcomes), ['credited'], 'one worker of nine attempted it');
    const creates = t.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    assert.is(creates.length, 1, `${creates.length} PaymentIntent create calls`);
    const credits = await t.db.selectFrom('ledger_entries').select('amount_mc').where('type', '=', 'auto_recharge').execute();
    assert.equal(credits.map((row) => row.amount_mc), [20_400_000]);
    assert.is((await walletSummary(t.db, buyer.user.id)).balanceMc, STARTER_MC - 6_000_000 + 20_400_000);
    await assertAuditClean(t);
  } finally {
    await t.stop();
  }
});

recharges.run();
