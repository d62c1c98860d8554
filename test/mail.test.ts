// The mail outbox against a real SMTP server: delivery, retries while the server is down (nothing
// lost, nothing sent twice), atomic claims, a crashed sender's claim, and log mode without SMTP.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTransport } from 'nodemailer';
import { writeTransaction } from '../src/db/transaction.ts';
import { queueMail } from '../src/mail/outbox.ts';
import { CLAIM_MS, claimDueMail, deliverDueMail, retryDelayMs, type MailDelivery } from '../src/mail/worker.ts';
import { freshDb, type TestDb } from './helpers/db.ts';
import { startSmtp, type TestSmtp } from './helpers/smtp.ts';

const mail = suite<{ t: TestDb; smtp: TestSmtp; delivery: MailDelivery; logs: string[] }>('mail outbox');
mail.before.each(async (context) => {
  context.t = await freshDb();
  context.smtp = await startSmtp();
  context.logs = [];
  context.delivery = { transport: createTransport(context.smtp.url), from: 'tokentab <no-reply@example.com>', log: (l) => context.logs.push(l) };
});
mail.after.each(async ({ t, smtp, delivery }) => {
  delivery.transport?.close();
  await smtp.close();
  await t.close();
});

async function queue(t: TestDb, count: number) {
  await writeTransaction(t.db, async (trx) => {
    for (let i = 0; i < count; i++) await queueMail(trx, t.clock.now(), { to: `user${i}@example.com`, subject: `Message ${i}`, text: `Body ${i}` });
  });
}

const statuses = async (t: TestDb) => (await t.db.selectFrom('mail_outbox').select('status').orderBy('id').execute()).map((r) => r.status);

mail('queued mail is delivered once over SMTP with a stable Message-ID', async ({ t, smtp, delivery }) => {
  await queue(t, 3);
  assert.is(await deliverDueMail(t.db, t.clock, delivery), 3);
  assert.is(await deliverDueMail(t.db, t.clock, delivery), 0, 'nothing is due twice');
  assert.equal(smtp.received.map((m) => m.subject), ['Message 0', 'Message 1', 'Message 2']);
  assert.is(smtp.received[1]!.text?.trim(), 'Body 1');
  assert.match(smtp.received[0]!.messageId ?? '', /^<outbox-1-\d+@tokentab>$/);
  assert.equal(await statuses(t), ['sent', 'sent', 'sent']);
});

mail('a mail queued in a transaction that rolls back is never sent', async ({ t, smtp, delivery }) => {
  await writeTransaction(t.db, async (trx) => {
    await queueMail(trx, t.clock.now(), { to: 'a@example.com', subject: 'never', text: 'x' });
    throw new Error('the event failed');
  }).catch(() => {});
  await deliverDueMail(t.db, t.clock, delivery);
  assert.is(smtp.received.length, 0);
});

mail('SMTP down for a while: retried with backoff, nothing lost, nothing sent twice', async ({ t, smtp, delivery, logs }) => {
  await queue(t, 5);
  smtp.down = true;
  await deliverDueMail(t.db, t.clock, delivery);
  assert.is(smtp.received.length, 0);
  assert.equal(await statuses(t), ['pending', 'pending', 'pending', 'pending', 'pending']);
  assert.ok(logs.some((l) => /attempt 1 failed/.test(l)));
  await deliverDueMail(t.db, t.clock, delivery);
  assert.is(smtp.received.length, 0, 'not retried before the backoff');
  t.clock.advance(retryDelayMs(1));
  await deliverDueMail(t.db, t.clock, delivery);
  const row = await t.db.selectFrom('mail_outbox').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
  assert.is(row.attempts, 2);
  assert.is(row.next_attempt_at_ms - t.clock.now(), retryDelayMs(2), 'the delay doubles');
  smtp.down = false;
  t.clock.advance(retryDelayMs(2));
  assert.is(await deliverDueMail(t.db, t.clock, delivery), 5);
  t.clock.advance(3_600_000);
  await deliverDueMail(t.db, t.clock, delivery);
  assert.equal(smtp.received.map((m) => m.subject).sort(), ['Message 0', 'Message 1', 'Message 2', 'Message 3', 'Message 4']);
});

mail('claims are atomic: two workers at once never take the same row', async ({ t }) => {
  await queue(t, 30);
  const [a, b] = await Promise.all([claimDueMail(t.db, t.clock, 20), claimDueMail(t.db, t.clock, 20)]);
  const ids = [...a!, ...b!].map((m) => m.id);
  assert.is(ids.length, 30);
  assert.is(new Set(ids).size, 30);
});

mail('a sender that crashed holding a claim: the row is tried again once the claim runs out', async ({ t, smtp, delivery }) => {
  await queue(t, 1);
  assert.is((await claimDueMail(t.db, t.clock)).length, 1); // claimed, then the process "dies"
  assert.is(await deliverDueMail(t.db, t.clock, delivery), 0, 'still claimed');
  t.clock.advance(CLAIM_MS + 1);
  assert.is(await deliverDueMail(t.db, t.clock, delivery), 1);
  assert.is(smtp.received.length, 1);
});

mail('without SMTP_URL mail is kept, and only its recipient and subject are logged', async ({ t }) => {
  await writeTransaction(t.db, (trx) => queueMail(trx, t.clock.now(), { to: 'a@example.com', subject: 'Reset', text: 'secret link https://x/reset/abc123' }));
  const logs: string[] = [];
  await deliverDueMail(t.db, t.clock, { transport: null, from: 'x', log: (l) => logs.push(l) });
  assert.equal(await statuses(t), ['kept']);
  assert.is(logs.length, 1);
  assert.match(logs[0]!, /a@example\.com.*Reset.*kept/);
  assert.not.match(logs[0]!, /abc123/);
});

mail.run();
