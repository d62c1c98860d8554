// Password reset end to end: the form, the outbox, a real SMTP server, the link used once.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createTransport } from 'nodemailer';
import { deliverDueMail } from '../src/mail/worker.ts';
import { RESET_LIFETIME_MS } from '../src/auth/reset-links.ts';
import { MAX_RESET_MAILS_PER_EMAIL, MAX_RESET_REQUESTS_PER_IP, RESET_REQUEST_WINDOW_MS } from '../src/auth/password-reset.ts';
import { hashPassword, productionCost, verifyPassword } from '../src/auth/password.ts';
import { peakConcurrentHashes } from '../src/auth/hash-slots.ts';
import { testApp, type TestApp } from './helpers/app.ts';
import { startSmtp, type TestSmtp } from './helpers/smtp.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyDatabaseUrl } from './helpers/backend.ts';
import { DEMO_ENV, startServer } from './helpers/server.ts';

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
  const posted = await forgetful.post('/reset', { email: 'OLGA@example.com' });
  assert.is(posted.status, 303, 'a plain form goes on by redirect: a refresh asks for no second link');
  assert.is(posted.headers.get('location'), '/reset?sent=1');
  const asked = await forgetful.follow(posted);
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
  const browser = t.browser();
  const posted = await browser.post('/reset', { email: 'ghost@example.com' });
  assert.is(posted.status, 303);
  assert.is(posted.headers.get('location'), '/reset?sent=1', 'the same answer as for a known email');
  const unknown = await browser.follow(posted);
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

/** The reset links queued for `email`, oldest first. */
async function linksTo(t: TestApp, email: string): Promise<string[]> {
  const mails = await t.db.selectFrom('mail_outbox').select('body_text').where('to_address', '=', email).orderBy('id').execute();
  return mails.map((m) => /(\/reset\/[a-z0-9]+)/.exec(m.body_text)![1]!);
}

reset('a completed reset, a password change and an email change each kill every other pending link', async ({ t }) => {
  const owner = t.browser();
  await owner.signUp('rosa@example.com');
  await t.browser('198.51.100.1').post('/reset', { email: 'rosa@example.com' });
  await t.browser('198.51.100.2').post('/reset', { email: 'rosa@example.com' });
  const [first, second] = await linksTo(t, 'rosa@example.com');
  assert.is((await t.browser().get(second!)).status, 200, 'both links work before');
  assert.is((await owner.post(first!, { password: 'reset password one' })).status, 303);
  assert.is((await t.browser().get(second!)).status, 404, 'the other link died with the completed reset');
  assert.is((await t.browser().post(second!, { password: 'reset password two' })).status, 422);

  t.clock.advance(RESET_REQUEST_WINDOW_MS);
  await t.browser('198.51.100.3').post('/reset', { email: 'rosa@example.com' });
  const beforePasswordChange = (await linksTo(t, 'rosa@example.com')).at(-1)!;
  assert.is((await owner.post('/account/password', { current_password: 'reset password one', new_password: 'changed password' })).status, 303);
  assert.is((await t.browser().get(beforePasswordChange)).status, 404, 'a password change kills pending links');
  assert.is((await t.browser().post(beforePasswordChange, { password: 'attacker password' })).status, 422);

  await t.browser('198.51.100.4').post('/reset', { email: 'rosa@example.com' });
  const beforeEmailChange = (await linksTo(t, 'rosa@example.com')).at(-1)!;
  assert.is((await owner.post('/account/email', { new_email: 'rosa@new.example', current_password: 'changed password' })).status, 303);
  assert.is((await t.browser().get(beforeEmailChange)).status, 404, 'an email change kills links sent to the old address');
  assert.is((await t.browser().post(beforeEmailChange, { password: 'attacker password' })).status, 422);
  assert.is((await t.browser().post('/login', { email: 'rosa@new.example', password: 'changed password' })).status, 303, 'the password is the one the owner chose');
});

reset('24 requests at once for one email send 3 links, each answered the same; an hour later one more is sent', async ({ t }) => {
  await t.browser().signUp('sol@example.com');
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => t.browser(`198.51.100.${i + 1}`).post('/reset', { email: 'SOL@example.com' })));
  assert.ok(answers.every((a) => a.status === 303 && a.headers.get('location') === '/reset?sent=1' && a.text === ''), 'every answer is the usual one, and reads the same');
  assert.match((await t.browser().get('/reset?sent=1')).doc.querySelector('[role="status"]')?.textContent ?? '', /If an account uses that email/);
  assert.is((await linksTo(t, 'sol@example.com')).length, MAX_RESET_MAILS_PER_EMAIL);
  t.clock.advance(RESET_REQUEST_WINDOW_MS);
  assert.is((await t.browser('198.51.100.99').post('/reset', { email: 'sol@example.com' })).status, 303);
  assert.is((await linksTo(t, 'sol@example.com')).length, MAX_RESET_MAILS_PER_EMAIL + 1);
});

reset('15 requests at once from one address: 10 are taken, 5 get 429 with Retry-After; other addresses are not affected', async ({ t }) => {
  await t.browser().signUp('tess@example.com');
  const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => t.browser('198.51.100.50').post('/reset', { email: `someone${i}@example.com` })));
  const refused = answers.filter((a) => a.status === 429);
  assert.is(answers.filter((a) => a.status === 303).length, MAX_RESET_REQUESTS_PER_IP);
  assert.is(refused.length, 15 - MAX_RESET_REQUESTS_PER_IP);
  for (const answer of refused) {
    assert.is(answer.headers.get('retry-after'), String(RESET_REQUEST_WINDOW_MS / 1000));
    assert.match(answer.doc.querySelector('[role="alert"]')?.textContent ?? '', /Too many reset requests from your address\. Try again in 60 minutes\./);
  }
  const blocked = await t.browser('198.51.100.50').post('/reset', { email: 'tess@example.com' });
  assert.is(blocked.status, 429, 'a known email from that address is refused the same way');
  assert.is((await linksTo(t, 'tess@example.com')).length, 0, 'and sends nothing');
  assert.is((await t.browser('198.51.100.51').post('/reset', { email: 'tess@example.com' })).status, 303);
  assert.is((await linksTo(t, 'tess@example.com')).length, 1);
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

reset('the answer takes the same time whether or not the email has an account', async ({ t }) => {
  const ROUNDS = 8;
  for (let i = 0; i < ROUNDS; i++) await t.browser().signUp(`known${i}@example.com`);
  const known: number[] = [];
  const unknown: number[] = [];
  const timed = async (email: string, ip: string) => {
    const startMs = performance.now();
    const answer = await t.fetch('/reset', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000' }, body: new URLSearchParams({ email }).toString() }, ip);
    await answer.text();
    assert.is(answer.status, 303);
    return performance.now() - startMs;
  };
  for (let i = 0; i < ROUNDS; i++) {
    known.push(await timed(`known${i}@example.com`, `198.51.100.${i + 1}`));
    unknown.push(await timed(`unknown${i}@example.com`, `198.51.100.${i + 101}`));
  }
  assert.is((await t.db.selectFrom('mail_outbox').select('id').execute()).length, ROUNDS, 'a link went to every known email, none to the others');
  const [knownMs, unknownMs] = [median(known), median(unknown)];
  console.log(`  POST /reset median: known email ${knownMs.toFixed(2)} ms, unknown ${unknownMs.toFixed(2)} ms`);
  assert.ok(Math.abs(knownMs - unknownMs) < 0.1 * Math.max(knownMs, unknownMs), `known ${knownMs.toFixed(2)} ms vs unknown ${unknownMs.toFixed(2)} ms`);
});


reset('through real HTTP behind one proxy (TRUST_PROXY=1): 15 requests at once from one forwarded address, 10 answered after at least 200 ms, 5 refused with 429; another address is not affected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-reset-http-'));
  const server = await startServer({ ...DEMO_ENV, DATABASE_URL: await emptyDatabaseUrl(dir, 'app.db'), TRUST_PROXY: '1' });
  const post = async (email: string, forwardedFor: string) => {
    const startMs = performance.now();
    const answer = await fetch(`${server.url}/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, 'x-forwarded-for': forwardedFor },
      body: new URLSearchParams({ email }).toString(),
      redirect: 'manual',
    });
    return { status: answer.status, retryAfter: answer.headers.get('retry-after'), location: answer.headers.get('location'), text: await answer.text(), tookMs: performance.now() - startMs };
  };
  try {
    // Every request comes from the same socket address (127.0.0.1): only the forwarded one tells them apart.
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => post(`someone${i}@example.com`, '198.51.100.50')));
    const taken = answers.filter((a) => a.status === 303);
    const refused = answers.filter((a) => a.status === 429);
    assert.is(taken.length, MAX_RESET_REQUESTS_PER_IP);
    assert.is(refused.length, 15 - MAX_RESET_REQUESTS_PER_IP);
    for (const answer of taken) {
      assert.is(answer.location, '/reset?sent=1', 'the usual answer');
      assert.ok(answer.tookMs >= 195, `the answer was held until 200 ms after the request arrived (${answer.tookMs.toFixed(0)} ms)`);
    }
    for (const answer of refused) {
      assert.is(answer.retryAfter, String(RESET_REQUEST_WINDOW_MS / 1000));
      assert.match(answer.text, /Too many reset requests from your address\. Try again in 60 minutes\./);
    }
    // A client that writes its own X-Forwarded-For in front gets nothing from it: the proxy's hop is the one read.
    assert.is((await post('tess@example.com', '203.0.113.9, 198.51.100.50')).status, 429);
    assert.is((await post('tess@example.com', '198.51.100.51')).status, 303);
  } finally {
    await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

reset.run();
