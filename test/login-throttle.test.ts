// The sign-in throttle under real concurrency: however many attempts arrive at once, no more than
// the limit are ever checked in the window, and the rest get 429 with Retry-After.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_FAILURES_PER_ACCOUNT_AND_IP, MAX_FAILURES_PER_IP, THROTTLE_WINDOW_MS } from '../src/auth/throttle.ts';
import { testApp, type TestApp } from './helpers/app.ts';
import { countingHasher, type CountingHasher } from './helpers/hasher.ts';

const throttle = suite<{ t: TestApp; hasher: CountingHasher }>('login throttle under concurrency');
throttle.before.each(async (context) => {
  context.hasher = countingHasher();
  context.t = await testApp({}, { hasher: context.hasher });
});
throttle.after.each(async ({ t }) => {
  await t.close();
});

/** Sends `count` sign-ins at once from one address; returns their statuses, Retry-After and the form's alert. */
async function wave(t: TestApp, ip: string, count: number, form: (i: number) => Record<string, string>) {
  const post = (i: number) =>
    t.fetch('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000' }, body: new URLSearchParams(form(i)).toString() }, ip);
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => post(i)));
  return Promise.all(
    answers.map(async (a) => ({ status: a.status, retryAfter: a.headers.get('retry-after'), alert: /role="alert">([^<]*)</.exec(await a.text())?.[1] ?? '' })),
  );
}

throttle('40 wrong passwords at once for one account from one address: exactly 10 are checked, the rest get 429', async ({ t, hasher }) => {
  await t.browser().signUp('dave@example.com');
  const attacker = '198.51.100.1';
  const wrong = () => ({ email: 'dave@example.com', password: 'wrong horse' });
  const first = await wave(t, attacker, 40, wrong);
  assert.ok(hasher.checked.length <= MAX_FAILURES_PER_ACCOUNT_AND_IP, `at most 10 checked in the first wave, got ${hasher.checked.length}`);
  assert.is(first.filter((a) => a.status === 422).length, hasher.checked.length, 'every checked attempt answered 422');
  for (const answer of first.filter((a) => a.status !== 422)) {
    assert.is(answer.status, 429);
    assert.ok(Number(answer.retryAfter) > 0, 'a 429 says when to try again');
  }
  // Attempts the hasher had no room for were never checked and do not count: later waves use the rest.
  for (let round = 0; round < 10; round++) {
    const later = await wave(t, attacker, 40, wrong);
    if (later.every((a) => a.status === 429 && /Too many failed sign-ins/.test(a.alert))) break;
  }
  assert.is(hasher.checked.length, MAX_FAILURES_PER_ACCOUNT_AND_IP, 'exactly the limit was ever checked');
  const blocked = await wave(t, attacker, 40, () => ({ email: 'dave@example.com', password: 'correct horse battery' }));
  assert.ok(blocked.every((a) => a.status === 429 && a.retryAfter === String(THROTTLE_WINDOW_MS / 1000)), 'all refused, for the whole window');
  assert.is(hasher.checked.length, MAX_FAILURES_PER_ACCOUNT_AND_IP, 'nothing more was checked');
  assert.is((await t.browser('192.0.2.50').post('/login', { email: 'dave@example.com', password: 'correct horse battery' })).status, 303, 'the owner signs in from their own address');
});

throttle('80 wrong sign-ins at once over 80 accounts from one address: exactly 50 are checked', async ({ t, hasher }) => {
  const sprayer = '198.51.100.2';
  let round = 0;
  for (; round < 60; round++) {
    const answers = await wave(t, sprayer, 80, (i) => ({ email: `guess${round}-${i}@example.com`, password: 'wrong horse' }));
    assert.ok(answers.every((a) => a.status === 422 || (a.status === 429 && Number(a.retryAfter) > 0)));
    if (round === 0) assert.ok(hasher.checked.length <= MAX_FAILURES_PER_IP, `at most 50 checked in the first wave, got ${hasher.checked.length}`);
    if (answers.every((a) => a.status === 429 && /Too many failed sign-ins/.test(a.alert))) break;
  }
  assert.ok(round < 60, 'the address was stopped');
  assert.is(hasher.checked.length, MAX_FAILURES_PER_IP);
});

throttle('a successful sign-in forgets its own attempt and the pair’s failures, not the address’s', async ({ t, hasher }) => {
  await t.browser().signUp('erin@example.com');
  const ip = '198.51.100.3';
  for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT_AND_IP - 1; i++) await t.browser(ip).post('/login', { email: 'erin@example.com', password: 'wrong horse' });
  assert.is((await t.browser(ip).post('/login', { email: 'erin@example.com', password: 'correct horse battery' })).status, 303);
  for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT_AND_IP; i++) {
    assert.is((await t.browser(ip).post('/login', { email: 'erin@example.com', password: 'wrong horse' })).status, 422, `failure ${i + 1} after the success is checked`);
  }
  assert.is((await t.browser(ip).post('/login', { email: 'erin@example.com', password: 'wrong horse' })).status, 429);
  // The address counted 9 + 10 failures and not the success: 31 more are allowed from it.
  for (let i = 0; i < MAX_FAILURES_PER_IP - 19; i++) assert.is((await t.browser(ip).post('/login', { email: `x${i}@example.com`, password: 'wrong horse' })).status, 422);
  assert.is((await t.browser(ip).post('/login', { email: 'y@example.com', password: 'wrong horse' })).status, 429);
  assert.is(hasher.checked.length, 9 + 1 + 10 + 31);
});

throttle.run();
