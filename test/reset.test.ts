// Password reset end to end: the form, the outbox, a real SMTP server, the link used once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTransport } from 'nodemailer';
import { deliverDueMail } from '../src/mail/worker.ts';
import { RESET_LIFETIME_MS } from '../src/auth/reset-links.ts';
import { hashPassword, productionCost, verifyPassword } from '../src/auth/password.ts';
import { peakConcurrentHashes } from '../src/auth/hash-slots.ts';
import { testApp, type TestApp } from './helpers/app.ts';
import { startSmtp, type TestSmtp } from './helpers/smtp.ts';

const reset = suite<{ t: TestApp; smtp: TestSmtp }>('password reset');
reset.before.each(async (context) => {
  context.t = await testApp({ PUBLIC_URL: 'http://localhost:3000' });
  context.smtp = await startSmtp();
});
reset.after.each(async ({ t, smtp }) => {
  for (const line of t.logLines) assert.not.match(line, /\/reset\/[a-z0-9]{10}/, 'no reset token in the log');
  await smtp.close();
  await t.close();
});

async function deliver(t: TestApp, smtp: TestSmtp) {
  const transport = createTransport(smtp.url);
  await deliverDueMail(t.db, t.clock, { transport, from: 'tokentab <no-reply@example.com>', log: () => {} });
  transport.close();
}

reset('a reset link arrives by SMTP, works once, signs out old sessions and signs this browser in', async ({ t, smtp }) => {
  const old = t.browser();
  await old.signUp('olga@example.com');
  const forgetful = t.browser();
  const asked = await forgetful.post('/reset', { email: 'OLGA@example.com' });
  assert.is(asked.status, 200);
  assert.match(asked.doc.querySelector('[role="status"]')?.textContent ?? '', /If an account uses that email/);
  await deliver(t, smtp);
  assert.is(smtp.received.length, 1);
  const message = smtp.received[0]!;
  assert.is(message.to && !Array.isArray(message.to) ? message.to.text : '', 'olga@example.com');
  const link = /http:\/\/localhost:3000(\/reset\/[a-z0-9]+)/.exec(message.text ?? '')?.[1];
  assert.ok(link, 'the mail carries the link');
  const form = await forgetful.get(link!);
  assert.is(form.status, 200);
  assert.ok(form.doc.querySelector('[hx-history="false"]'));
  const weak = await forgetful.post(link!, { password: 'short' });
  assert.is(weak.status, 422);
  const done = await forgetful.post(link!, { password: 'brand new password' });
  assert.is(done.status, 303);
  assert.is(done.headers.get('location'), '/credits');
  assert.is((await forgetful.get('/credits')).status, 200, 'signed in');
  assert.is((await old.get('/credits')).status, 303, 'the old session is gone');
  const again = await t.browser().post(link!, { password: 'another new password' });
  assert.is(again.status, 422, 'a link works once');
  assert.is((await t.browser().get(link!)).status, 404);
  assert.is((await t.browser().post('/login', { email: 'olga@example.com', password: 'brand new password' })).status, 303);
});

reset('an unknown email gets the same answer and no mail; a link expires after an hour', async ({ t, smtp }) => {
  const unknown = await t.browser().post('/reset', { email: 'ghost@example.com' });
  assert.is(unknown.status, 200);
  assert.match(unknown.text, /If an account uses that email/);
  await t.browser().signUp('pat@example.com');
  await t.browser().post('/reset', { email: 'pat@example.com' });
  await deliver(t, smtp);
  assert.is(smtp.received.length, 1);
  const link = /(\/reset\/[a-z0-9]+)/.exec(smtp.received[0]!.text ?? '')![1]!;
  t.clock.advance(RESET_LIFETIME_MS);
  assert.is((await t.browser().get(link)).status, 404);
  assert.is((await t.browser().post(link, { password: 'brand new password' })).status, 422);
});

reset('passwords are scrypt N=2^17, r=8, p=1 in PHC format; malformed hashes never match', async () => {
  const phc = await hashPassword('correct horse battery', productionCost);
  assert.match(phc, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.ok(await verifyPassword('correct horse battery', phc));
  assert.not.ok(await verifyPassword('correct horse batterY', phc));
  assert.not.ok(await verifyPassword('x', '$scrypt$garbage'));
  assert.not.ok(await verifyPassword('x', 'plain'));
});

reset('at most two hashes run at once, however many sign-ins arrive together', async () => {
  const hashes = await Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`password number ${i}`, { ln: 12, r: 8, p: 1 })));
  assert.is(new Set(hashes).size, 6);
  assert.is(peakConcurrentHashes(), 2);
});

reset.run();
