// The password hasher's bounded queue (src/auth/hash-slots.ts): two hashes run, four wait, one
// address holds at most two places, everything else is refused at once with 429 and Retry-After,
// on every form that hashes; and a flood cannot make a real sign-in wait for it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { FULL_RETRY_AFTER_SECONDS, HashSlotsFullError, inHashSlot, MAX_PER_REQUESTER, MAX_RUNNING, MAX_WAITING, peakConcurrentHashes } from '../src/auth/hash-slots.ts';
import { testApp, type TestApp } from './helpers/app.ts';
import { countingHasher } from './helpers/hasher.ts';

const hashQueue = suite('password hasher queue');

/** Places in the hasher held until release(): the hasher stays full while a test looks. */
function holdPlaces(requesters: string[]) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const started: string[] = [];
  const done = Promise.all(
    requesters.map((requester) =>
      inHashSlot(requester, async () => {
        started.push(requester);
        await gate;
      }),
    ),
  );
  return { started, release: async () => (release(), await done) };
}

function refusal(work: () => Promise<unknown>): Promise<HashSlotsFullError | null> {
  return work().then(
    () => null,
    (error) => (error instanceof HashSlotsFullError ? error : Promise.reject(error)),
  );
}

hashQueue('two run, four wait in order, the next is refused at once; one requester holds at most two places', async () => {
  const fillers = Array.from({ length: MAX_RUNNING + MAX_WAITING }, (_, i) => `192.0.2.${i}`);
  const held = holdPlaces(fillers);
  await sleep(5);
  assert.equal(held.started, fillers.slice(0, MAX_RUNNING), 'only two run');
  const full = await refusal(() => inHashSlot('192.0.2.200', async () => 'never'));
  assert.is(full?.full, 'everyone');
  assert.is(full?.retryAfterSeconds, FULL_RETRY_AFTER_SECONDS);
  await held.release();
  assert.equal(held.started, fillers, 'the waiting ran in arrival order');
  assert.is(peakConcurrentHashes(), MAX_RUNNING);

  const greedy = holdPlaces(Array.from({ length: MAX_PER_REQUESTER }, () => '198.51.100.7'));
  const share = await refusal(() => inHashSlot('198.51.100.7', async () => 'never'));
  assert.is(share?.full, 'requester', 'one more place for the same address is refused');
  const other = inHashSlot('198.51.100.8', async () => 'ran');
  await greedy.release();
  assert.is(await other, 'ran', 'another address still gets in');
  assert.is(await inHashSlot('198.51.100.7', async () => 'again'), 'again', 'the share is given back');
});

async function resetLink(t: TestApp, email: string): Promise<string> {
  await t.browser('203.0.113.200').post('/reset', { email });
  const mail = await t.db.selectFrom('mail_outbox').select('body_text').orderBy('id', 'desc').executeTakeFirstOrThrow();
  return /(\/reset\/[a-z0-9]+)/.exec(mail.body_text)![1]!;
}

hashQueue('every form that hashes answers 429 with Retry-After while the hasher is full, and changes nothing', async () => {
  const t = await testApp();
  try {
    const signedIn = t.browser();
    await signedIn.signUp('quinn@example.com');
    const link = await resetLink(t, 'quinn@example.com');
    const held = holdPlaces(Array.from({ length: MAX_RUNNING + MAX_WAITING }, (_, i) => `192.0.2.${i}`));
    try {
      const answers = {
        login: await t.browser().post('/login', { email: 'quinn@example.com', password: 'correct horse battery' }),
        signup: await t.browser().post('/signup', { email: 'rita@example.com', password: 'correct horse battery' }),
        reset: await t.browser().post(link, { password: 'brand new password' }),
        password: await signedIn.post('/account/password', { current_password: 'correct horse battery', new_password: 'new long password' }),
        email: await signedIn.post('/account/email', { new_email: 'quinn@new.example', current_password: 'correct horse battery' }),
      };
      for (const [form, answer] of Object.entries(answers)) {
        assert.is(answer.status, 429, form);
        assert.is(answer.headers.get('retry-after'), String(FULL_RETRY_AFTER_SECONDS), form);
        assert.match(answer.doc.querySelector('[role="alert"]')?.textContent ?? '', /Too many passwords are being checked right now\. Try again in 2 seconds\./, form);
      }
    } finally {
      await held.release();
    }
    assert.is((await t.db.selectFrom('users').select('email').execute()).map((u) => u.email).join(), 'quinn@example.com', 'no account was created, no email changed');
    assert.is((await t.browser().get(link)).status, 200, 'the reset link still works');
    assert.is((await t.db.selectFrom('rate_limit_events').select('id').where('scope_key', 'like', 'login-%').execute()).length, 0, 'the refused sign-in was not counted');
    assert.is((await t.browser().post('/login', { email: 'quinn@example.com', password: 'correct horse battery' })).status, 303, 'the password is unchanged');
  } finally {
    await t.close();
  }
});

hashQueue('one address holding its share is refused; another address is served', async () => {
  const t = await testApp();
  try {
    await t.browser().signUp('sam@example.com');
    const held = holdPlaces(Array.from({ length: MAX_PER_REQUESTER }, () => '198.51.100.20'));
    let other;
    try {
      const greedy = await t.browser('198.51.100.20').post('/login', { email: 'sam@example.com', password: 'correct horse battery' });
      assert.is(greedy.status, 429);
      assert.is(greedy.headers.get('retry-after'), String(FULL_RETRY_AFTER_SECONDS));
      assert.match(greedy.doc.querySelector('[role="alert"]')?.textContent ?? '', /Your address already has several passwords being checked/);
      other = t.browser('198.51.100.21').post('/login', { email: 'sam@example.com', password: 'correct horse battery' });
    } finally {
      await held.release();
    }
    assert.is((await other).status, 303, 'queued behind the held places, then signed in');
  } finally {
    await t.close();
  }
});

/** scrypt at 2^15 (32 MiB, tens of ms a hash): costly enough for a flood to queue, cheap enough for a test. */
const REALISH_COST = { ln: 15, r: 8, p: 1 };
const FLOOD = 60;

hashQueue('a flood of sign-ins from rotating addresses is refused early; a real sign-in completes in bounded time', async () => {
  const hasher = countingHasher(REALISH_COST);
  const t = await testApp({ TRUST_PROXY: '1' }, { hasher });
  try {
    await t.browser().signUp('real@example.com');
    const viaProxy = (client: string, form: Record<string, string>) =>
      t.fetch(
        '/login',
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000', 'x-forwarded-for': client }, body: new URLSearchParams(form).toString() },
        '10.0.0.1',
      );
    /** A person signing in: on 429 they wait as Retry-After says and try again. */
    const realSignIn = async () => {
      const startMs = performance.now();
      const statuses: number[] = [];
      for (let tries = 0; tries < 5; tries++) {
        const answer = await viaProxy('192.0.2.10', { email: 'real@example.com', password: 'correct horse battery' });
        statuses.push(answer.status);
        if (answer.status !== 429) return { ms: performance.now() - startMs, statuses };
        await sleep(Number(answer.headers.get('retry-after')) * 1000);
      }
      return { ms: performance.now() - startMs, statuses };
    };

    const idle = await realSignIn();
    assert.equal(idle.statuses, [303]);
    // One unknown email before the flood, as on any server that has run a while.
    assert.is((await viaProxy('192.0.2.11', { email: 'nobody@example.com', password: 'wrong horse' })).status, 422);

    const callsBefore = hasher.calls;
    const checkedBefore = hasher.checked.length;
    const floodStartMs = performance.now();
    const flood = Array.from({ length: FLOOD }, (_, i) =>
      viaProxy(`198.51.100.${i + 1}`, { email: `nobody${i}@example.com`, password: 'wrong horse' }).then((answer) => ({
        status: answer.status,
        retryAfter: answer.headers.get('retry-after'),
        ms: performance.now() - floodStartMs,
      })),
    );
    // The real person arrives once every request of the flood has reached the hasher.
    while (hasher.calls - callsBefore < FLOOD) await sleep(1);
    const underFlood = await realSignIn();
    const floodAnswers = await Promise.all(flood);

    const refused = floodAnswers.filter((a) => a.status === 429);
    // The real password is the only one that matches: everything checked before it since the flood began is the flood's.
    const floodCheckedFirst = hasher.checked.slice(checkedBefore).findIndex((c) => c.matched);
    console.log(
      `  real sign-in idle ${idle.ms.toFixed(0)} ms; under a ${FLOOD}-request flood ${underFlood.ms.toFixed(0)} ms (answers ${underFlood.statuses.join(', ')}); ` +
        `flood: ${refused.length} refused, the slowest refusal after ${Math.max(...refused.map((a) => a.ms)).toFixed(0)} ms; ${floodCheckedFirst} flood passwords checked before the real one`,
    );
    assert.is(underFlood.statuses.at(-1), 303, 'the real person signs in');
    assert.ok(floodCheckedFirst <= 2 * (MAX_RUNNING + MAX_WAITING), `the real sign-in waited for ${floodCheckedFirst} flood hashes`);
    assert.ok(refused.length >= FLOOD - 2 * (MAX_RUNNING + MAX_WAITING), `most of the flood is refused (${refused.length})`);
    assert.ok(refused.every((a) => a.retryAfter === String(FULL_RETRY_AFTER_SECONDS)), 'every refusal says when to try again');
    assert.ok(floodAnswers.every((a) => a.status === 429 || a.status === 422));
    assert.ok(underFlood.ms < 10_000, `the real sign-in took ${underFlood.ms.toFixed(0)} ms under the flood`);
  } finally {
    await t.close();
  }
});

hashQueue.run();
