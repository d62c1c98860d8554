// Sign-up, sign-in, sessions, throttling, CSRF and the account page, through the app and the DOM.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SESSION_LIFETIME_MS } from '../src/auth/sessions.ts';
import { testApp, type TestApp } from './helpers/app.ts';

const accounts = suite<{ t: TestApp }>('accounts');
accounts.before.each(async (context) => {
  context.t = await testApp();
});
accounts.after.each(async ({ t }) => {
  for (const line of t.logLines) assert.not.match(line, /correct horse|wrong horse|tt_[a-z0-9]{20}/, 'no password or key in the log');
  await t.close();
});

accounts('sign up: 303 to /credits with an HttpOnly, SameSite=Lax session cookie; the page knows the user', async ({ t }) => {
  const browser = t.browser();
  const form = await browser.get('/signup');
  assert.ok(form.doc.querySelector('form[action="/signup"] input[name="email"][type="email"]'));
  const answer = await browser.signUp('Ada@Example.com');
  assert.is(answer.status, 303);
  assert.is(answer.headers.get('location'), '/credits');
  const cookie = browser.lastSetCookie.find((c) => c.startsWith('session='))!;
  assert.ok(cookie, 'a session cookie');
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  assert.match(cookie, /Path=\//);
  assert.not.match(cookie, /Secure/, 'not Secure on plain http');
  const page = await browser.get('/credits');
  assert.is(page.status, 200);
  assert.match(page.doc.querySelector('.signout')?.textContent ?? '', /Ada@Example\.com/);
  const stored = await t.db.selectFrom('sessions').select('id').execute();
  assert.is(stored.length, 1);
  assert.not.ok(cookie.includes(stored[0]!.id), 'the cookie holds the token, the database only its hash');
});

accounts('sign-up errors re-render the form with the fields marked (422); htmx gets only the form', async ({ t }) => {
  const browser = t.browser();
  const full = await browser.post('/signup', { email: 'not-an-email', password: 'short' });
  assert.is(full.status, 422);
  assert.ok(full.doc.querySelector('header.top'), 'a full page without htmx');
  const email = full.doc.querySelector('input[name="email"]')!;
  assert.is(email.getAttribute('aria-invalid'), 'true');
  assert.is(email.getAttribute('value'), 'not-an-email', 'what was typed is kept');
  assert.match(full.doc.querySelector(`#${email.getAttribute('aria-describedby')!.split(' ').at(-1)}`)?.textContent ?? '', /email address/);
  assert.is(full.doc.querySelector('input[name="password"]')!.getAttribute('aria-invalid'), 'true');
  const partial = await browser.post('/signup', { email: 'a@example.com', password: 'short' }, { htmx: true });
  assert.is(partial.status, 422);
  assert.is(partial.headers.get('vary'), 'HX-Request');
  assert.not.ok(partial.doc.querySelector('header.top'), 'htmx gets the form alone');
  assert.is(partial.doc.querySelector('form')?.id, 'signup-form');
  assert.is(partial.doc.querySelector('form')?.getAttribute('hx-target'), 'this');
  assert.is((await t.db.selectFrom('users').select('id').execute()).length, 0, 'nothing was written');
});

accounts('an email is unique whatever its case', async ({ t }) => {
  await t.browser().signUp('bob@example.com');
  const again = await t.browser().post('/signup', { email: 'BOB@example.com', password: 'another password' });
  assert.is(again.status, 422);
  assert.match(again.text, /already exists/);
});

accounts('sign in: a wrong password and an unknown email read the same; the right one works in any case', async ({ t }) => {
  await t.browser().signUp('carol@example.com');
  const wrong = await t.browser().post('/login', { email: 'carol@example.com', password: 'wrong horse' });
  const unknown = await t.browser().post('/login', { email: 'nobody@example.com', password: 'wrong horse' });
  assert.is(wrong.status, 422);
  assert.is(unknown.status, 422);
  assert.is(wrong.doc.querySelector('[role="alert"]')?.textContent, unknown.doc.querySelector('[role="alert"]')?.textContent);
  const ok = await t.browser().post('/login', { email: 'CAROL@example.com', password: 'correct horse battery' });
  assert.is(ok.status, 303);
  const htmx = await t.browser().post('/login', { email: 'carol@example.com', password: 'correct horse battery' }, { htmx: true });
  assert.is(htmx.headers.get('hx-redirect'), '/credits');
});

accounts('throttling: 10 failures per (account, IP) → 429 with Retry-After; others are not locked out', async ({ t }) => {
  await t.browser().signUp('dave@example.com');
  const attacker = t.browser('198.51.100.1');
  for (let i = 0; i < 10; i++) assert.is((await attacker.post('/login', { email: 'dave@example.com', password: 'wrong horse' })).status, 422);
  const blocked = await attacker.post('/login', { email: 'dave@example.com', password: 'correct horse battery' });
  assert.is(blocked.status, 429);
  assert.is(blocked.headers.get('retry-after'), String(15 * 60));
  assert.match(blocked.doc.querySelector('[role="alert"]')?.textContent ?? '', /Too many failed sign-ins/);
  const owner = t.browser('192.0.2.50');
  assert.is((await owner.post('/login', { email: 'dave@example.com', password: 'correct horse battery' })).status, 303, 'the owner signs in from their own address');
  t.clock.advance(15 * 60 * 1000);
  assert.is((await attacker.post('/login', { email: 'dave@example.com', password: 'correct horse battery' })).status, 303, 'the window slides');
});

accounts('throttling per IP: 50 failures over many accounts block that address only', async ({ t }) => {
  await t.browser().signUp('erin@example.com');
  const sprayer = t.browser('198.51.100.2');
  for (let i = 0; i < 50; i++) await sprayer.post('/login', { email: `guess${i}@example.com`, password: 'wrong horse' });
  assert.is((await sprayer.post('/login', { email: 'erin@example.com', password: 'correct horse battery' })).status, 429);
  assert.is((await t.browser('198.51.100.3').post('/login', { email: 'erin@example.com', password: 'correct horse battery' })).status, 303);
});

accounts('behind a trusted proxy the client IP comes from X-Forwarded-For; untrusted, the header is ignored', async () => {
  for (const [trust, expectBlockedForOther] of [['1', false], ['0', true]] as const) {
    const t = await testApp({ TRUST_PROXY: trust });
    try {
      await t.browser().signUp('frank@example.com');
      const viaProxy = (client: string) => {
        const b = t.browser('10.0.0.1'); // the proxy's address
        return (form: Record<string, string>) => b.post('/login', form, { headers: { 'x-forwarded-for': `${client}` } });
      };
      const attacker = viaProxy('198.51.100.9');
      for (let i = 0; i < 10; i++) await attacker({ email: 'frank@example.com', password: 'wrong horse' });
      assert.is((await attacker({ email: 'frank@example.com', password: 'correct horse battery' })).status, 429);
      const other = await viaProxy('192.0.2.77')({ email: 'frank@example.com', password: 'correct horse battery' });
      // Trusted: the other client has its own address. Untrusted: everyone is the proxy's address.
      assert.is(other.status, expectBlockedForOther ? 429 : 303, `TRUST_PROXY=${trust}`);
      const spoofed = t.browser('198.51.100.9');
      const forged = await spoofed.post('/login', { email: 'frank@example.com', password: 'correct horse battery' }, { headers: { 'x-forwarded-for': '1.2.3.4' } });
      if (trust === '0') assert.is(forged.status, 303, 'a forged header is not believed (and this address never failed)');
    } finally {
      await t.close();
    }
  }
});

accounts('CSRF: a form posted from a foreign origin, or with no origin, is refused and changes nothing', async ({ t }) => {
  const browser = t.browser();
  const foreign = await browser.post('/signup', { email: 'gina@example.com', password: 'correct horse battery' }, { headers: { origin: 'https://evil.example' } });
  assert.is(foreign.status, 403);
  const none = await t.fetch('/signup', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=gina%40example.com&password=correct+horse+battery' });
  assert.is(none.status, 403);
  assert.is((await t.db.selectFrom('users').select('id').execute()).length, 0);
  const sameSite = await t.browser().post('/signup', { email: 'gina@example.com', password: 'correct horse battery' }, { headers: { origin: 'http://127.0.0.1:3000' } });
  assert.is(sameSite.status, 303, '127.0.0.1 is accepted when PUBLIC_URL is unset');
});

accounts('with an https PUBLIC_URL the cookie is Secure with the __Host- prefix, and only that origin may post', async () => {
  const t = await testApp({ PUBLIC_URL: 'https://credits.example.com' });
  try {
    const answer = await t.browser().signUp('hana@example.com');
    assert.is(answer.status, 303);
    const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('__Host-session='));
    assert.ok(cookie, '__Host- prefix');
    assert.match(cookie!, /Secure/);
    assert.match(cookie!, /Path=\//);
    assert.not.match(cookie!, /Domain=/);
    const local = await t.browser().post('/signup', { email: 'ivy@example.com', password: 'correct horse battery' }, { headers: { origin: 'http://localhost:3000' } });
    assert.is(local.status, 403);
  } finally {
    await t.close();
  }
});

accounts('sessions last 30 days, renew at half-life, and expire when unused', async ({ t }) => {
  const browser = t.browser();
  await browser.signUp('jack@example.com');
  t.clock.advance(14 * 24 * 3600 * 1000);
  await browser.get('/credits');
  assert.is(browser.lastSetCookie.length, 0, 'no renewal before half-life');
  t.clock.advance(2 * 24 * 3600 * 1000);
  const renewed = await browser.get('/credits');
  assert.is(renewed.status, 200);
  const cookie = browser.lastSetCookie.find((c) => c.startsWith('session='))!;
  assert.ok(cookie, 'renewed at half-life');
  assert.match(cookie, new RegExp(`Expires=${new Date(t.clock.now() + SESSION_LIFETIME_MS).toUTCString()}`));
  t.clock.advance(SESSION_LIFETIME_MS);
  const expired = await browser.get('/credits');
  assert.is(expired.status, 303);
  assert.is(expired.headers.get('location'), '/login');
  assert.is((await t.db.selectFrom('sessions').select('id').execute()).length, 0, 'the expired session is deleted');
});

accounts('signed out: any page redirects to /login (HX-Redirect under htmx)', async ({ t }) => {
  const plain = await t.browser().get('/keys');
  assert.is(plain.status, 303);
  assert.is(plain.headers.get('location'), '/login');
  const htmx = await t.browser().get('/credits', { htmx: true });
  assert.is(htmx.headers.get('hx-redirect'), '/login');
});

accounts('log out invalidates the session: the old cookie no longer works', async ({ t }) => {
  const browser = t.browser();
  await browser.signUp('kim@example.com');
  const stolen = browser.cookies.get('session')!;
  const out = await browser.post('/logout', {});
  assert.is(out.status, 303);
  assert.is(out.headers.get('location'), '/login');
  const replay = await t.fetch('/credits', { headers: { cookie: `session=${stolen}` } });
  assert.is(replay.status, 303);
});

accounts('a password change signs out every other session and keeps this one', async ({ t }) => {
  const laptop = t.browser();
  await laptop.signUp('lee@example.com');
  const phone = t.browser();
  await phone.post('/login', { email: 'lee@example.com', password: 'correct horse battery' });
  const wrong = await laptop.post('/account/password', { current_password: 'wrong horse', new_password: 'new long password' });
  assert.is(wrong.status, 422);
  assert.is(wrong.doc.querySelector('#password-form input[name="current_password"]')!.getAttribute('aria-invalid'), 'true');
  const changed = await laptop.post('/account/password', { current_password: 'correct horse battery', new_password: 'new long password' });
  assert.is(changed.status, 303);
  assert.is((await laptop.get('/account')).status, 200, 'this browser stays signed in');
  assert.is((await phone.get('/account')).status, 303, 'the other session is gone');
  assert.is((await t.browser().post('/login', { email: 'lee@example.com', password: 'new long password' })).status, 303);
});

accounts('sign out everywhere ends every session', async ({ t }) => {
  const one = t.browser();
  await one.signUp('mia@example.com');
  const two = t.browser();
  await two.post('/login', { email: 'mia@example.com', password: 'correct horse battery' });
  const answer = await one.post('/account/sign-out-everywhere', {});
  assert.is(answer.headers.get('location'), '/login?signed_out=everywhere');
  assert.is((await one.get('/account')).status, 303);
  assert.is((await two.get('/account')).status, 303);
  assert.is((await t.db.selectFrom('sessions').select('id').execute()).length, 0);
});

accounts('change email: checks the password and uniqueness, then signs in with the new address', async ({ t }) => {
  await t.browser().signUp('taken@example.com');
  const browser = t.browser();
  await browser.signUp('noah@example.com');
  const clash = await browser.post('/account/email', { new_email: 'TAKEN@example.com', current_password: 'correct horse battery' }, { htmx: true });
  assert.is(clash.status, 422);
  assert.is(clash.doc.querySelector('form')?.id, 'email-form');
  assert.match(clash.text, /Another account/);
  const posted = await browser.post('/account/email', { new_email: 'noah@new.example', current_password: 'correct horse battery' });
  assert.is(posted.status, 303, 'a plain form goes on by redirect: a refresh posts nothing again');
  const changed = await browser.follow(posted);
  assert.is(changed.status, 200);
  assert.match(changed.doc.querySelector('[role="status"]')?.textContent ?? '', /noah@new\.example/);
  assert.is((await t.browser().post('/login', { email: 'noah@new.example', password: 'correct horse battery' })).status, 303);
});

accounts('SIGNUP=closed hides sign-up; admins come from ADMIN_EMAILS', async () => {
  const closed = await testApp({ SIGNUP: 'closed' });
  try {
    assert.is((await closed.browser().get('/signup')).status, 404);
    assert.is((await closed.browser().post('/signup', { email: 'x@example.com', password: 'correct horse battery' })).status, 404);
    const login = await closed.browser().get('/login');
    assert.not.ok(login.doc.querySelector('a[href="/signup"]'), 'no sign-up link');
  } finally {
    await closed.close();
  }
  const open = await testApp({ ADMIN_EMAILS: 'boss@example.com' });
  try {
    await open.browser().signUp('Boss@Example.com');
    await open.browser().signUp('worker@example.com');
    const users = await open.db.selectFrom('users').select(['email', 'is_admin']).orderBy('id').execute();
    assert.equal(users.map((u) => u.is_admin), [1, 0]);
  } finally {
    await open.close();
  }
});

accounts('request bodies are limited: a huge form is refused (413) and nothing is written', async ({ t }) => {
  const answer = await t.browser().post('/signup', { email: 'big@example.com', password: 'x'.repeat(100_000) });
  assert.is(answer.status, 413);
  assert.match(answer.text, /too large/);
  assert.is((await t.db.selectFrom('users').select('id').execute()).length, 0);
});

accounts.run();
