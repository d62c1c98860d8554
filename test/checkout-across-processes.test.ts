// One paid Checkout Session completed by everything at once, across OS processes: its webhook
// delivered (twice each) to two real server processes, its return page opened on both, and
// `reconcile` run by the CLI in a third, over and over until the CLI is done. One credit, no 500.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { checkoutEntryKey } from '../src/ledger/idempotency-keys.ts';
import { assertAuditClean, balanceMc, signedInBuyer, startPurchase, stripeWorld, WEBHOOK_SECRET, STARTER_MC } from './helpers/billing.ts';
import { DEMO_ENV, startServer, type RunningServer } from './helpers/server.ts';

const across = suite('one Checkout Session across processes');

across('webhook ×4 on two servers, the return page on both and reconcile in the CLI, all at once: one credit, every answer 200', async () => {
  const t = await stripeWorld();
  // Real time on both sides: the servers check the webhook's signed timestamp against their own clock.
  t.clock.set(Date.now());
  const servers: RunningServer[] = [];
  try {
    const buyer = await signedInBuyer(t);
    const { sessionId } = await startPurchase(t, buyer);
    t.fake.paySession(sessionId);
    const env = {
      ...DEMO_ENV,
      DATABASE_URL: t.databaseUrl,
      PAYMENTS: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_tokentab',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: t.fake.url,
    };
    await Promise.all([0, 1].map(async () => servers.push(await startServer(env))));
    const cookie = [...buyer.browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const event = t.fake.event('checkout.session.completed', t.fake.session(sessionId));

    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'reconcile', '--since', '1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let cliOutput = '';
    cli.stdout.on('data', (chunk) => (cliOutput += chunk));
    cli.stderr.on('data', (chunk) => (cliOutput += chunk));
    const cliExit = new Promise<number | null>((resolve) => cli.on('exit', resolve));
    let cliDone = false;
    void cliExit.then(() => (cliDone = true));

    // Waves of every other path while the CLI starts and reconciles, so one of them overlaps it.
    const statuses: number[] = [];
    let waves = 0;
    while (!cliDone || waves < 2) {
      const answers = await Promise.all(
        servers.flatMap((server) => [
          ...[0, 1].map(() => {
            const signed = t.fake.signedWebhook(event, WEBHOOK_SECRET);
            return fetch(`${server.url}/webhooks/stripe`, { method: 'POST', headers: signed.headers, body: signed.payload });
          }),
          fetch(`${server.url}/credits/checkout/success?session_id=${sessionId}`, { headers: { cookie }, redirect: 'manual' }),
        ]),
      );
      statuses.push(...answers.map((answer) => answer.status));
      waves++;
    }
    assert.is(await cliExit, 0, cliOutput);
    assert.ok(statuses.every((status) => status === 200), `answers: ${[...new Set(statuses)].join(', ')} over ${waves} waves`);

    const credits = await t.db.selectFrom('ledger_entries').select('amount_mc').where('idempotency_key', '=', checkoutEntryKey(sessionId)).execute();
    assert.equal(credits.map((row) => row.amount_mc), [STARTER_MC], 'credited once');
    assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
    const purchases = await t.db.selectFrom('purchases').select('status').execute();
    assert.equal(purchases.map((row) => row.status), ['paid']);
    await assertAuditClean(t);
  } finally {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await t.stop();
  }
});

across.run();
