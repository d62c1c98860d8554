// API keys: shown once, stored hashed, listed by prefix, Bearer auth on /v1, revoke, tenant isolation.
import * as assert from 'uvu/assert';
import { hashToken } from '../src/auth/tokens.ts';
import { runCli } from '../src/cli/run.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import type { Browser } from './helpers/app.ts';
import { signedInSuite } from './helpers/signed-in.ts';

const keys = signedInSuite('api keys', 'owner@example.com', {
  afterEach: ({ t }) => {
    for (const line of t.logLines) assert.not.match(line, /tt_[a-z0-9]{20}/, 'no key in the log');
  },
});

/** A plain form answers 303 and the key is on the page it leads to; htmx gets it in place. */
async function createKey(browser: Browser, name: string, htmx = false) {
  const posted = await browser.post('/keys', { name }, { htmx });
  const answer = htmx ? posted : await browser.follow(posted);
  const key = answer.doc.querySelector('#new-key-value')?.textContent ?? '';
  return { answer, key };
}

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

keys('a new key is shown once with a copy button and a curl example, on a page htmx keeps out of history', async ({ t, browser }) => {
  const { answer, key } = await createKey(browser, 'my script');
  assert.is(answer.status, 200);
  assert.match(key, /^tt_[a-z0-9]{39}$/);
  assert.is(answer.headers.get('cache-control'), 'no-store');
  assert.ok(answer.doc.querySelector('[hx-history="false"]'), 'kept out of htmx history');
  assert.is(answer.doc.querySelector('button[data-copy-target="new-key-value"]')?.textContent?.trim(), 'Copy');
  assert.match(answer.doc.querySelector('.new-key pre')?.textContent ?? '', new RegExp(`curl http://localhost:3000/v1/chat/completions[\\s\\S]*Bearer ${key}`));
  const stored = await t.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
  assert.is(stored.key_hash, hashToken(key), 'only the hash is stored');
  assert.not.ok(JSON.stringify(stored).includes(key));
  const list = await browser.get('/keys');
  assert.not.ok(list.text.includes(key), 'the list never shows the key again');
  const row = list.doc.querySelector(`tr[data-key-id="${stored.id}"]`)!;
  assert.is(row.querySelector('th')?.textContent, 'my script');
  assert.is(row.querySelector('code')?.textContent, `${key.slice(0, 11)}…`);
  assert.match(row.textContent ?? '', /never/);
});

keys('htmx creation swaps only the panel; an empty name is marked (422) and nothing is created', async ({ t, browser }) => {
  const { answer } = await createKey(browser, 'ci', true);
  assert.not.ok(answer.doc.querySelector('header.top'));
  assert.ok(answer.doc.querySelector('#keys-panel #new-key-value'));
  const bad = await browser.post('/keys', { name: '   ' }, { htmx: true });
  assert.is(bad.status, 422);
  assert.is(bad.doc.querySelector('input[name="name"]')?.getAttribute('aria-invalid'), 'true');
  assert.is((await t.db.selectFrom('api_keys').select('id').execute()).length, 1);
});

keys('the key authenticates /v1; last used is written at most once a minute', async ({ t, browser }) => {
  const { key } = await createKey(browser, 'app');
  const user = await t.db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_012_500, reason: 'r' });
  const credits = await t.fetch('/v1/credits', bearer(key));
  assert.is(credits.status, 200);
  assert.equal(await credits.json(), { balanceCredits: 1012.5, availableCredits: 1012.5, heldCredits: 0, heldCalls: 0, balanceMillicredits: 1_012_500, availableMillicredits: 1_012_500, heldMillicredits: 0 });
  const models = (await (await t.fetch('/v1/models', bearer(key))).json()) as { data: { id: string }[] };
  assert.equal(models.data.map((m) => m.id).sort(), ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-large', 'text-embedding-3-small']);
  const lastUsed = async () => (await t.db.selectFrom('api_keys').select('last_used_at_ms').executeTakeFirstOrThrow()).last_used_at_ms;
  const first = await lastUsed();
  assert.is(first, t.clock.now());
  t.clock.advance(59_000);
  await t.fetch('/v1/credits', bearer(key));
  assert.is(await lastUsed(), first, 'not rewritten within the minute');
  t.clock.advance(1_000);
  await t.fetch('/v1/credits', bearer(key));
  assert.is(await lastUsed(), t.clock.now());
});

keys('a revoked, unknown or missing key gets 401 in OpenAI\'s error shape', async ({ t, browser }) => {
  const { key } = await createKey(browser, 'old');
  const id = (await t.db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow()).id;
  const revoke = await browser.follow(await browser.post(`/keys/${id}/revoke`, {}));
  assert.is(revoke.status, 200);
  assert.match(revoke.doc.querySelector(`tr[data-key-id="${id}"]`)?.textContent ?? '', /Revoked/);
  assert.match(revoke.doc.querySelector('#keys-panel .notice')?.textContent ?? '', /“old” was revoked/);
  for (const headers of [bearer(key).headers, bearer('tt_unknownunknownunknownunknownunknown1234').headers, {}]) {
    const answer = await t.fetch('/v1/credits', { headers });
    assert.is(answer.status, 401);
    const body = (await answer.json()) as { error: { message: string; type: string; code: string; param: null } };
    assert.is(body.error.code, 'invalid_api_key');
    assert.is(body.error.type, 'invalid_request_error');
    assert.is(body.error.param, null);
    assert.type(body.error.message, 'string');
  }
});

keys('another user cannot revoke my key (404) and it keeps working', async ({ t, browser }) => {
  const { key } = await createKey(browser, 'mine');
  const id = (await t.db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow()).id;
  const intruder = t.browser();
  await intruder.signUp('intruder@example.com');
  assert.is((await intruder.post(`/keys/${id}/revoke`, {})).status, 404);
  assert.is((await intruder.post('/keys/999999/revoke', {})).status, 404);
  const list = await intruder.get('/keys');
  assert.not.ok(list.doc.querySelector(`tr[data-key-id="${id}"]`), 'not listed for another user');
  assert.is((await t.fetch('/v1/credits', bearer(key))).status, 200);
});

keys('CLI key:create prints the key on the last line, and it authenticates', async ({ t }) => {
  const lines: string[] = [];
  const code = await runCli(['key:create', '--email', 'OWNER@example.com', '--name', 'from cli'], { env: { DATABASE_URL: t.databaseUrl }, out: (l) => lines.push(l), err: (l) => lines.push(l) });
  assert.is(code, 0, lines.join('\n'));
  const key = lines.at(-1)!;
  assert.match(key, /^tt_/);
  assert.is((await t.fetch('/v1/credits', bearer(key))).status, 200);
});

keys('per-key limits: a monthly limit in credits and calls at once; bad values marked, another user\'s key 404', async ({ t, browser }) => {
  await createKey(browser, 'worker');
  const id = (await t.db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow()).id;
  const page = await browser.get('/keys');
  const form = page.doc.querySelector(`tr[data-key-id="${id}"] form.key-limits`)!;
  assert.is(form.getAttribute('action'), `/keys/${id}/limits`);
  assert.is(form.querySelector('input[name="max_in_flight"]')?.getAttribute('value'), '10', 'default: 10 calls at once');
  const bad = await browser.post(`/keys/${id}/limits`, { monthly_limit: '0', max_in_flight: '0' }, { htmx: true });
  assert.is(bad.status, 422);
  assert.is(bad.doc.querySelector(`tr[data-key-id="${id}"] input[name="monthly_limit"]`)?.getAttribute('aria-invalid'), 'true');
  assert.is(bad.doc.querySelector(`tr[data-key-id="${id}"] input[name="max_in_flight"]`)?.getAttribute('aria-invalid'), 'true');
  const ok = await browser.follow(await browser.post(`/keys/${id}/limits`, { monthly_limit: '250.5', max_in_flight: '3' }));
  assert.is(ok.status, 200);
  assert.match(ok.doc.querySelector('#keys-panel .notice')?.textContent ?? '', /Limits saved for “worker”/);
  const stored = await t.db.selectFrom('api_keys').select(['monthly_limit_mc', 'max_in_flight']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(stored, { monthly_limit_mc: 250_500, max_in_flight: 3 });
  assert.is(ok.doc.querySelector(`tr[data-key-id="${id}"] input[name="monthly_limit"]`)?.getAttribute('value'), '250.500');
  const none = await browser.post(`/keys/${id}/limits`, { monthly_limit: '', max_in_flight: '3' });
  assert.is(none.status, 303);
  assert.is((await t.db.selectFrom('api_keys').select('monthly_limit_mc').executeTakeFirstOrThrow()).monthly_limit_mc, null);
  const intruder = t.browser();
  await intruder.signUp('limits-intruder@example.com');
  assert.is((await intruder.post(`/keys/${id}/limits`, { monthly_limit: '1', max_in_flight: '1' })).status, 404);
  assert.is((await t.db.selectFrom('api_keys').select('max_in_flight').executeTakeFirstOrThrow()).max_in_flight, 3);
});

keys('without JavaScript: Revoke opens a confirmation page, the key is revoked only when confirmed, and every form that worked redirects (303) so a refresh posts nothing again', async ({ t, browser }) => {
  const { key } = await createKey(browser, 'laptop');
  const id = (await t.db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow()).id;
  const list = await browser.get('/keys');
  const revokeForm = list.doc.querySelector(`tr[data-key-id="${id}"] form[action="/keys/${id}/revoke"]`)!;
  assert.is(revokeForm.getAttribute('method'), 'get', 'without JavaScript the button opens the confirmation');
  assert.is(revokeForm.getAttribute('hx-post'), `/keys/${id}/revoke`, 'with htmx it posts after its dialog');
  assert.match(revokeForm.getAttribute('hx-confirm') ?? '', /Revoke “laptop”/);
  const confirm = await browser.get(`/keys/${id}/revoke`);
  assert.is(confirm.status, 200);
  assert.match(confirm.doc.querySelector('h1')?.textContent ?? '', /Revoke “laptop”\?/);
  assert.match(confirm.doc.querySelector('main')?.textContent ?? '', /will fail at once/);
  assert.is(confirm.doc.querySelector(`form[method="post"][action="/keys/${id}/revoke"] button[type="submit"]`)?.textContent?.trim(), 'Revoke the key');
  assert.is(confirm.doc.querySelector('main a[href="/keys"]')?.textContent, 'Cancel');
  assert.is((await t.db.selectFrom('api_keys').select('revoked_at_ms').executeTakeFirstOrThrow()).revoked_at_ms, null, 'opening the page revokes nothing');
  assert.is((await t.fetch('/v1/credits', bearer(key))).status, 200);
  const revoked = await browser.post(`/keys/${id}/revoke`, {});
  assert.is(revoked.status, 303);
  assert.is(revoked.headers.get('location'), `/keys?revoked=${id}`);
  assert.is((await t.fetch('/v1/credits', bearer(key))).status, 401);
  assert.is((await browser.get(`/keys/${id}/revoke`)).status, 404, 'a revoked key has nothing to confirm');
  const intruder = t.browser();
  await intruder.signUp('confirm-intruder@example.com');
  const { key: other } = await createKey(browser, 'desktop');
  const otherId = (await t.db.selectFrom('api_keys').select('id').where('name', '=', 'desktop').executeTakeFirstOrThrow()).id;
  assert.is((await intruder.get(`/keys/${otherId}/revoke`)).status, 404, "another user's key");
  assert.not.match((await intruder.get(`/keys/${otherId}/revoke`)).text, /desktop/);

  // A new key crosses its redirect sealed in a cookie for /keys: shown once, to its owner only.
  const created = await browser.post('/keys', { name: 'phone' });
  assert.is(created.status, 303);
  assert.is(created.headers.get('location'), '/keys');
  assert.not.ok(created.text.includes('tt_'), 'the redirect itself shows nothing');
  const flash = browser.lastSetCookie.find((line) => line.startsWith('flash_new_key='))!;
  assert.match(flash, /Path=\/keys/);
  assert.match(flash, /HttpOnly/);
  assert.match(flash, /SameSite=Strict/);
  assert.not.match(flash, /tt_[a-z0-9]{20}/, 'sealed, not the key in clear');
  const sealed = browser.cookies.get('flash_new_key')!;
  const shown = await browser.get('/keys');
  const phoneKey = shown.doc.querySelector('#new-key-value')?.textContent ?? '';
  assert.match(phoneKey, /^tt_[a-z0-9]{39}$/);
  assert.is(shown.headers.get('cache-control'), 'no-store');
  assert.ok((await t.fetch('/v1/credits', bearer(phoneKey))).status === 200 && phoneKey !== other);
  assert.not.ok((await browser.get('/keys')).text.includes(phoneKey), 'a refresh shows it no more');
  // The sealed cookie replayed by another user, or tampered with, shows nothing.
  intruder.cookies.set('flash_new_key', sealed);
  assert.not.ok((await intruder.get('/keys')).text.includes(phoneKey));
  browser.cookies.set('flash_new_key', `${sealed.slice(0, -2)}AA`);
  assert.not.ok((await browser.get('/keys')).doc.querySelector('#new-key-value'));
});

keys.run();
