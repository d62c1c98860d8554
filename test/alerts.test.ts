// Low-balance alerts to a real SMTP server: one email per crossing however many charges follow,
// re-armed when the balance is back at or above the threshold, nothing lost or doubled while SMTP is down.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTransport } from 'nodemailer';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { loadConfig } from '../src/config.ts';
import { billingDeps } from '../src/billing/deps.ts';
import { startCheckout } from '../src/billing/checkout.ts';
import { fulfilCheckoutSession } from '../src/billing/fulfil.ts';
import type { DemoProvider } from '../src/billing/demo-provider.ts';
import { audit } from '../src/audit.ts';
import { deliverDueMail, retryDelayMs } from '../src/mail/worker.ts';
import { freshDb, makeUser, rateOf, type TestDb } from './helpers/db.ts';
import { makeCall } from './helpers/usage.ts';
import { startSmtp, type TestSmtp } from './helpers/smtp.ts';

const alerts = suite<{ t: TestDb; smtp: TestSmtp }>('low-balance alerts');
alerts.before.each(async (context) => {
  context.t = await freshDb();
  context.smtp = await startSmtp();
});
alerts.after.each(async ({ t, smtp }) => {
  assert.equal(await audit(t.db), []);
  await smtp.close();
  await t.close();
});

async function deliver(t: TestDb, smtp: TestSmtp) {
  const transport = createTransport(smtp.url);
  await deliverDueMail(t.db, t.clock, { transport, from: 'tokentab <alerts@example.com>', log: () => {} });
  transport.close();
}

const lowMails = (smtp: TestSmtp) => smtp.received.filter((m) => /running low/.test(m.subject ?? ''));

alerts('one email per crossing across 50 charges below the threshold the threshold; re-armed by a purchase', async ({ t, smtp }) => {
  const user = await makeUser(t.db, t.clock, 'low@example.com');
  // Default threshold 500 credits. 510 credits; one call of 12 credits crosses, then 50 small charges stay below.
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 510_000, reason: 'start' });
  await makeCall(t.db, t.clock, user.id, { inputTokens: 1_000, outputTokens: 1_000 });
  for (let i = 0; i < 50; i++) await makeCall(t.db, t.clock, user.id);
  await deliver(t, smtp);
  assert.is(lowMails(smtp).length, 1, 'one email for the crossing, none for the 50 charges below');
  assert.match(lowMails(smtp)[0]!.text ?? '', /Your balance is now 498\.00 credits, below the 500 credits/);
  // A real purchase through billing (demo payments): fulfilment's credit re-arms the alert.
  const deps = billingDeps(loadConfig({}), t.db, t.clock, () => {})!;
  const { purchase } = await startCheckout(deps, user, 'starter', false);
  await (deps.provider as DemoProvider).pay(purchase.checkout_session_id!);
  assert.is((await fulfilCheckoutSession(deps, purchase.checkout_session_id!)).kind, 'credited');
  for (let i = 0; i < 28; i++) await makeCall(t.db, t.clock, user.id, { model: 'gpt-4o', inputTokens: 10_000, outputTokens: 2_000 }); // 360 credits each: 10,492 → 412
  await deliver(t, smtp);
  assert.is(lowMails(smtp).length, 2, 'the purchase re-armed it: one more email for the second crossing');
  assert.is(smtp.received.filter((m) => /credits added/.test(m.subject ?? '')).length, 1, 'and its confirmation went out');
  assert.is((await t.db.selectFrom('users').select('low_balance_alerted').where('id', '=', user.id).executeTakeFirstOrThrow()).low_balance_alerted, 1);
});

alerts('no email without a crossing, and none when the threshold is 0', async ({ t, smtp }) => {
  const below = await makeUser(t.db, t.clock, 'below@example.com');
  await grantCredits(t.db, t.clock, { userId: below.id, amountMc: 100_000, reason: 'starts below' });
  await makeCall(t.db, t.clock, below.id);
  const off = await makeUser(t.db, t.clock, 'off@example.com');
  await t.db.updateTable('users').set({ low_balance_threshold_mc: 0 }).where('id', '=', off.id).execute();
  await grantCredits(t.db, t.clock, { userId: off.id, amountMc: 600_000, reason: 'r' });
  for (let i = 0; i < 5; i++) await makeCall(t.db, t.clock, off.id, { model: 'gpt-4o', inputTokens: 1_000, outputTokens: 1_000 });
  await deliver(t, smtp);
  assert.is(smtp.received.length, 0);
});

alerts('no email when the settle that crosses also starts an auto-recharge', async ({ t, smtp }) => {
  const user = await makeUser(t.db, t.clock, 'recharging@example.com');
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 510_000, reason: 'start' });
  // The hold is placed while auto-recharge is off, so the settle is what starts the recharge.
  const hold = await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: 'req_crossing', rate: await rateOf(t.db, 'gpt-4o-mini'), roundingMode: 'exact', amountMc: 20_000, ttlMs: 60_000 });
  await t.db.insertInto('saved_cards').values({ user_id: user.id, payment_method_id: 'pm_1', brand: 'visa', last4: '4242', created_at_ms: t.clock.now() }).execute();
  await t.db
    .insertInto('billing_settings')
    .values({ user_id: user.id, auto_recharge_enabled: 1, auto_recharge_threshold_mc: 500_000, auto_recharge_package_id: 'starter', auto_recharge_monthly_limit: 3, monthly_cap_mc: null, updated_at_ms: t.clock.now() })
    .execute();
  // 12 credits: 510 → 498, below the alert's 500 and the recharge's 500 in the same settle.
  await settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 1_000, cachedInputTokens: 0, outputTokens: 1_000 }, status: 'ok', estimated: false, latencyMs: 1 });
  assert.equal((await t.db.selectFrom('auto_recharges').select('status').where('user_id', '=', user.id).execute()).map((r) => r.status), ['pending']);
  await deliver(t, smtp);
  assert.is(lowMails(smtp).length, 0);
});

alerts('SMTP down when the balance crosses: the alert waits in the outbox and is sent once when it is back', async ({ t, smtp }) => {
  const user = await makeUser(t.db, t.clock, 'down@example.com');
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 505_000, reason: 'r' });
  smtp.down = true;
  for (let i = 0; i < 5; i++) await makeCall(t.db, t.clock, user.id, { inputTokens: 1_000, outputTokens: 1_000 });
  await deliver(t, smtp);
  t.clock.advance(retryDelayMs(1));
  await deliver(t, smtp);
  assert.is(smtp.received.length, 0);
  smtp.down = false;
  t.clock.advance(retryDelayMs(2));
  await deliver(t, smtp);
  t.clock.advance(3_600_000);
  await deliver(t, smtp);
  assert.is(lowMails(smtp).length, 1);
});

alerts.run();
