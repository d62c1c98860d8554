// The operator console (/admin) through the app and the DOM: every route hidden (404) from everyone
// but admins, each user action with its exact ledger effect, audit and admin_actions row, disabling
// (sign-in and API refused), the user list's search, sort and keyset pages.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { runCli } from '../src/cli/run.ts';
import { roundRecorder, WORKER_NAMES } from '../src/jobs/worker-runs.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { createPurchase } from '../src/billing/purchases.ts';
import { makeUser, rateOf } from './helpers/db.ts';
import { loadConfig } from '../src/config.ts';
import { billingDeps } from '../src/billing/deps.ts';
import { applyRefundIn } from '../src/billing/clawback.ts';
import { fulfilCheckoutSession } from '../src/billing/fulfil.ts';
import { writeTransaction } from '../src/db/transaction.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { testApp, type Answer, type Browser, type TestApp } from './helpers/app.ts';
import { signedIn } from './helpers/signed-in.ts';

interface Context {
  t: TestApp;
  admin: Browser;
  adminId: number;
}

const admin = suite<Context>('admin');
admin.before.each(async (context) => {
  context.t = await testApp({ ADMIN_EMAILS: 'boss@example.com' });
  const boss = await signedIn(context.t, 'boss@example.com');
  context.admin = boss.browser;
  context.adminId = boss.user.id;
});
admin.after.each(async ({ t }) => {
  assert.equal(await audit(t.db), [], 'the books balance after every test');
  await t.close();
});

const STARTER = { id: 'starter', name: 'Starter', price_cents: 1_000, currency: 'usd', credits_mc: 10_000_000 };
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const balanceMc = async (t: TestApp, userId: number) => (await t.db.selectFrom('wallets').select('balance_mc').where('user_id', '=', userId).executeTakeFirstOrThrow()).balance_mc;
const actionRows = (page: Answer) => [...page.doc.querySelectorAll('#admin-actions tbody tr')].map((row) => [...row.querySelectorAll('td')].slice(2).map((cell) => cell.textContent?.trim()));

/** Every /admin route, with a real target (user and key ids) so an admin's answer is not a 404 of its own. */
function everyRoute(userId: number, keyId: number): { method: 'GET' | 'POST'; path: string; form?: Record<string, string> }[] {
  const form = { amount: '5', reason: 'probe' };
  return [
    { method: 'GET', path: '/admin' },
    { method: 'GET', path: '/admin/users' },
    { method: 'GET', path: '/admin/users?search=a&sort=balance' },
    { method: 'GET', path: `/admin/users/${userId}` },
    { method: 'GET', path: `/admin/users/${userId}/usage?model=gpt-4o` },
    { method: 'GET', path: `/admin/users/${userId}/ledger?type=grant` },
    { method: 'GET', path: `/admin/users/${userId}/purchases` },
    { method: 'GET', path: '/admin/no-such-page' },
    { method: 'POST', path: `/admin/users/${userId}/grant`, form },
    { method: 'POST', path: `/admin/users/${userId}/adjust`, form },
    { method: 'POST', path: `/admin/users/${userId}/keys/${keyId}/revoke`, form },
    { method: 'POST', path: `/admin/users/${userId}/end-sessions`, form },
    { method: 'POST', path: `/admin/users/${userId}/disable`, form },
    { method: 'POST', path: `/admin/users/${userId}/enable`, form },
    { method: 'GET', path: '/admin/rates' },
    { method: 'POST', path: '/admin/rates/add', form: { model: 'probe-model', input: '1', output: '1', reason: 'probe' } },
    { method: 'POST', path: '/admin/rates/change', form: { model: 'gpt-4o', input: '1', output: '1', reason: 'probe' } },
    { method: 'POST', path: '/admin/rates/retire', form: { model: 'gpt-4o', reason: 'probe' } },
    { method: 'GET', path: '/admin/packages' },
    { method: 'GET', path: '/admin/health' },
    { method: 'GET', path: '/admin/purchases' },
    { method: 'GET', path: '/admin/purchases?status=pending' },
    { method: 'POST', path: '/admin/purchases/reconcile', form: { reason: 'probe' } },
    { method: 'POST', path: '/admin/health/audit', form: {} },
    { method: 'POST', path: '/admin/packages/add', form: { id: 'probe', name: 'Probe', price: '1.00', credits: '1', sort_order: '9', active: '1', reason: 'probe' } },
    { method: 'POST', path: '/admin/packages/change', form: { id: 'starter', name: 'Probe', price: '1.00', credits: '1', sort_order: '9', active: '1', reason: 'probe' } },
  ];
}

admin('every /admin URL is a 404 page signed out and for a normal user, and changes nothing; an admin gets them', async ({ t, admin: boss }) => {
  const normal = await signedIn(t, 'ann@example.com');
  const { apiKey } = await createApiKey(t.db, t.clock, normal.user.id, 'probe');
  const routes = everyRoute(normal.user.id, apiKey.id);
  const notFound = await t.browser().get('/no-such-page');
  for (const [who, browser] of [['signed out', t.browser()], ['a normal user', normal.browser]] as const) {
    for (const route of routes) {
      const answer = route.method === 'GET' ? await browser.get(route.path) : await browser.post(route.path, route.form!);
      assert.is(answer.status, 404, `${who}: ${route.method} ${route.path}`);
      assert.is(answer.doc.querySelector('h1')?.textContent, notFound.doc.querySelector('h1')?.textContent, `${who}: the plain not-found page`);
      assert.not.match(answer.text, /admin/i, `${who}: nothing tells the console exists`);
    }
  }
  assert.is(await balanceMc(t, normal.user.id), 0, 'nothing was granted');
  assert.is((await t.db.selectFrom('admin_actions').select('id').execute()).length, 0, 'no action was recorded');
  assert.is((await t.db.selectFrom('audit_runs').select('id').execute()).length, 0, 'no audit was run');
  assert.is((await t.db.selectFrom('rates').select('id').where('model', 'in', ['probe-model', 'gpt-4o']).execute()).length, 1, 'the rate card is unchanged');
  assert.is((await t.db.selectFrom('rates').select('id').where('retired_at_ms', 'is not', null).execute()).length, 0);
  assert.equal(await t.db.selectFrom('packages').select(['id', 'name']).where('id', 'in', ['probe', 'starter']).execute(), [{ id: 'starter', name: 'Starter' }], 'the packages are unchanged');
  assert.is((await t.db.selectFrom('api_keys').select('revoked_at_ms').where('id', '=', apiKey.id).executeTakeFirstOrThrow()).revoked_at_ms, null);
  assert.not.ok(normal.browser.cookies.size === 0, 'the normal user is still signed in');
  const page = await normal.browser.get('/credits');
  assert.not.ok(page.doc.querySelector('nav a[href="/admin"]'), 'no Admin link for a normal user');

  for (const route of routes.filter((r) => r.method === 'GET' && r.path !== '/admin/no-such-page')) {
    const answer = await boss.get(route.path);
    assert.ok(answer.status === 200 || answer.status === 303, `admin: GET ${route.path} → ${answer.status}`);
  }
  assert.is((await boss.get('/admin/no-such-page')).status, 404);
  assert.is((await boss.get('/admin/users/999999')).status, 404, 'no such user');
  assert.ok((await boss.get('/credits')).doc.querySelector('nav a[href="/admin"]'), 'the nav links the console for an admin');
});

admin('a user created with user:create --admin is an admin without ADMIN_EMAILS; a form from another origin is refused (403)', async ({ t, admin: boss }) => {
  const operator = await makeUser(t.db, t.clock, 'ops@example.com');
  await t.db.updateTable('users').set({ is_admin: 1 }).where('id', '=', operator.id).execute();
  const browser = t.browser();
  assert.is((await browser.post('/login', { email: 'ops@example.com', password: 'correct horse' })).status, 303);
  assert.is((await browser.get('/admin/users')).status, 200);
  const target = await makeUser(t.db, t.clock);
  const foreign = await boss.post(`/admin/users/${target.id}/grant`, { amount: '5', reason: 'x' }, { headers: { origin: 'https://evil.example' } });
  assert.is(foreign.status, 403);
  assert.is(await balanceMc(t, target.id), 0);
});

admin('grant: exact millicredits in the ledger, the row on the user page with who and why; bad input is a 422 naming the field, nothing written', async ({ t, admin: boss }) => {
  const user = await makeUser(t.db, t.clock, 'cid@example.com');
  const answer = await boss.post(`/admin/users/${user.id}/grant`, { amount: '25.125', reason: 'Welcome credits' });
  assert.is(answer.status, 303);
  assert.is(answer.headers.get('location'), `/admin/users/${user.id}?done=grant`);
  assert.is(await balanceMc(t, user.id), 25_125);
  const entries = await t.db.selectFrom('ledger_entries').selectAll().where('user_id', '=', user.id).execute();
  assert.equal(entries.map((e) => [e.type, e.amount_mc, e.reference]), [['grant', 25_125, 'Welcome credits']]);
  assert.equal(await audit(t.db), []);
  const page = await boss.get(answer.headers.get('location')!);
  assert.is(page.doc.querySelector('.notice')?.textContent, 'Credits granted.');
  assert.is(page.doc.querySelector('.wallet-balance')?.getAttribute('data-mc'), '25125');
  assert.is(page.doc.querySelector('#ledger tbody tr td[data-mc]')?.getAttribute('data-mc'), '25125');
  const [row] = [...page.doc.querySelectorAll('#admin-actions tbody tr')];
  assert.is(row?.querySelector('td[data-label="Admin"]')?.textContent, 'boss@example.com');
  assert.equal(actionRows(page), [['grant', `user ${user.id}`, `+25.125 credits (ledger entry ${entries[0]!.id}; balance after 25.125)`, 'Welcome credits']]);

  for (const [form, field] of [
    [{ amount: '0', reason: 'x' }, 'amount'],
    [{ amount: '-5', reason: 'x' }, 'amount'],
    [{ amount: '1.0001', reason: 'x' }, 'amount'],
    [{ amount: '1000000001', reason: 'x' }, 'amount'],
    [{ amount: '5', reason: '   ' }, 'reason'],
    [{ amount: '5', reason: 'r'.repeat(501) }, 'reason'],
  ] as const) {
    const refused = await boss.post(`/admin/users/${user.id}/grant`, form);
    assert.is(refused.status, 422, JSON.stringify(form));
    assert.ok(refused.doc.querySelector(`#grant-${field}-error`), `${field} named for ${JSON.stringify(form).slice(0, 60)}`);
    assert.is(refused.doc.querySelector(`#grant-${field}`)?.getAttribute('aria-invalid'), 'true');
  }
  assert.is(await balanceMc(t, user.id), 25_125, 'no refused grant changed the balance');
  assert.is((await t.db.selectFrom('admin_actions').select('id').execute()).length, 1, 'nor wrote an action');
});

admin('adjust: adds, takes, and never takes more than is available (balance − held): a 422 and nothing taken', async ({ t, admin: boss }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'start' });
  assert.is((await boss.post(`/admin/users/${user.id}/adjust`, { amount: '2.5', reason: 'goodwill' })).status, 303);
  assert.is(await balanceMc(t, user.id), 12_500);
  assert.is((await boss.post(`/admin/users/${user.id}/adjust`, { amount: '-2.001', reason: 'correction' })).status, 303);
  assert.is(await balanceMc(t, user.id), 10_499);
  assert.equal(await audit(t.db), []);
  // 3 credits held for a call in flight: 7.499 are available.
  await t.db.updateTable('wallets').set({ held_mc: 3_000 }).where('user_id', '=', user.id).execute();
  const refused = await boss.post(`/admin/users/${user.id}/adjust`, { amount: '-7.5', reason: 'too much' });
  assert.is(refused.status, 422);
  assert.match(refused.doc.querySelector('#adjust-amount-error')?.textContent ?? '', /At most 7\.499 credits can be taken now/);
  assert.is(await balanceMc(t, user.id), 10_499, 'nothing taken');
  await t.db.updateTable('wallets').set({ held_mc: 0 }).where('user_id', '=', user.id).execute();
  assert.is((await boss.post(`/admin/users/${user.id}/adjust`, { amount: '-10.499', reason: 'close account' })).status, 303);
  assert.is(await balanceMc(t, user.id), 0);
  assert.equal(await audit(t.db), []);
  const page = await boss.get(`/admin/users/${user.id}`);
  assert.equal(
    actionRows(page).map((cells) => [cells[0], cells[3]]),
    [['adjust', 'close account'], ['adjust', 'correction'], ['adjust', 'goodwill']],
  );
  const amounts = (await t.db.selectFrom('ledger_entries').select(['type', 'amount_mc', 'shortfall_mc']).where('user_id', '=', user.id).orderBy('id').execute());
  assert.equal(amounts, [
    { type: 'grant', amount_mc: 10_000, shortfall_mc: 0 },
    { type: 'adjustment', amount_mc: 2_500, shortfall_mc: 0 },
    { type: 'adjustment', amount_mc: -2_001, shortfall_mc: 0 },
    { type: 'adjustment', amount_mc: -10_499, shortfall_mc: 0 },
  ]);
});

admin('revoke a key and end sessions: the key gets 401, the user is signed out; both recorded', async ({ t, admin: boss }) => {
  const ann = await signedIn(t, 'ann@example.com');
  const { key, apiKey } = await createApiKey(t.db, t.clock, ann.user.id, 'laptop');
  const bearer = { headers: { authorization: `Bearer ${key}` } };
  assert.is((await t.fetch('/v1/models', bearer)).status, 200);
  const before = await boss.get(`/admin/users/${ann.user.id}`);
  assert.ok(before.doc.querySelector(`form#revoke-key-${apiKey.id}`));
  assert.not.match(before.text, new RegExp(key), 'the key itself is never shown');
  assert.is((await boss.post(`/admin/users/${ann.user.id}/keys/${apiKey.id}/revoke`, { reason: 'leaked on GitHub' })).status, 303);
  const refused = await t.fetch('/v1/models', bearer);
  assert.is(refused.status, 401);
  assert.is(((await refused.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
  const other = await makeUser(t.db, t.clock);
  assert.is((await boss.post(`/admin/users/${other.id}/keys/${apiKey.id}/revoke`, { reason: 'x' })).status, 404, "another user's key is not found");

  assert.is((await ann.browser.get('/credits')).status, 200);
  assert.is((await boss.post(`/admin/users/${ann.user.id}/end-sessions`, { reason: 'lost phone' })).status, 303);
  const signedOut = await ann.browser.get('/credits');
  assert.is(signedOut.status, 303);
  assert.is(signedOut.headers.get('location'), '/login');
  const page = await boss.get(`/admin/users/${ann.user.id}`);
  assert.equal(actionRows(page), [
    ['end_sessions', `user ${ann.user.id}`, '1 sessions ended', 'lost phone'],
    ['revoke_key', `key ${apiKey.id} (laptop, ${apiKey.prefix}…)`, 'revoked', 'leaked on GitHub'],
  ]);
});

admin('disable: sessions end, sign-in and the API are refused (403 account_disabled), keys kept; enable restores both', async ({ t, admin: boss }) => {
  const ann = await signedIn(t, 'ann@example.com');
  const { key } = await createApiKey(t.db, t.clock, ann.user.id, 'laptop');
  const bearer = { headers: { authorization: `Bearer ${key}` } };
  assert.is((await boss.post(`/admin/users/${ann.user.id}/disable`, { reason: 'chargeback fraud' })).status, 303);
  assert.is((await ann.browser.get('/credits')).headers.get('location'), '/login', 'signed out');
  const call = await t.fetch('/v1/models', bearer);
  assert.is(call.status, 403);
  const body = (await call.json()) as { error: { code: string; type: string; message: string } };
  assert.is(body.error.code, 'account_disabled');
  assert.is(body.error.type, 'permission_error');
  assert.match(body.error.message, /disabled by the operator/);
  const login = await t.browser().post('/login', { email: 'ann@example.com', password: 'correct horse battery' });
  assert.is(login.status, 422);
  assert.match(login.text, /This account is disabled/);
  const page = await boss.get(`/admin/users/${ann.user.id}`);
  assert.match(page.doc.querySelector('.account-status')?.textContent ?? '', /^disabled since/);
  assert.ok(page.doc.querySelector('form#enable'));

  assert.is((await boss.post(`/admin/users/${ann.user.id}/enable`, { reason: 'cleared' })).status, 303);
  assert.is((await t.fetch('/v1/models', bearer)).status, 200, 'the same key works again');
  assert.is((await t.browser().post('/login', { email: 'ann@example.com', password: 'correct horse battery' })).status, 303);
  const after = await boss.get(`/admin/users/${ann.user.id}`);
  assert.equal(actionRows(after).map((cells) => [cells[0], cells[2], cells[3]]), [
    ['enable', 'sign-in and API access on', 'cleared'],
    ['disable', 'sign-in and API access off; 1 sessions ended', 'chargeback fraud'],
  ]);
  const self = await boss.post(`/admin/users/${(await t.db.selectFrom('users').select('id').where('email', '=', 'boss@example.com').executeTakeFirstOrThrow()).id}/disable`, { reason: 'oops' });
  assert.is(self.status, 422, 'an admin cannot disable themselves');
});

admin('users: search by email (LIKE characters taken literally), sort by balance, keyset pages with no row twice or missed', async ({ t, admin: boss }) => {
  const ids: number[] = [];
  for (let i = 0; i < 120; i++) {
    const user = await makeUser(t.db, t.clock, `u${String(i).padStart(3, '0')}@example.com`);
    ids.push(user.id);
    // Balances repeat (i % 7), so the id breaks ties across page boundaries.
    if (i % 7 > 0) await grantCredits(t.db, t.clock, { userId: user.id, amountMc: (i % 7) * 1_000, reason: 'seed' });
  }
  await makeUser(t.db, t.clock, 'a_b@example.com');
  await makeUser(t.db, t.clock, 'axb@example.com');
  const search = await boss.get('/admin/users?search=A_B');
  assert.equal([...search.doc.querySelectorAll('.admin-users-table tbody td[data-label="Email"]')].map((cell) => cell.textContent), ['a_b@example.com']);

  const seen: { email: string; mc: number }[] = [];
  let path: string | null = '/admin/users?sort=balance&search=%40example.com';
  let pages = 0;
  while (path) {
    const page = await boss.get(path);
    assert.is(page.status, 200);
    for (const row of page.doc.querySelectorAll('.admin-users-table tbody tr')) {
      seen.push({ email: row.querySelector('td[data-label="Email"]')!.textContent!, mc: Number(row.querySelector('td[data-label="Balance"]')!.getAttribute('data-mc')) });
    }
    path = page.doc.querySelector('a[rel="next"]')?.getAttribute('href') ?? null;
    pages++;
  }
  assert.is(pages, 3, '123 users in pages of 50');
  assert.is(seen.length, 123);
  assert.is(new Set(seen.map((s) => s.email)).size, 123, 'no user twice');
  assert.equal(seen.map((s) => s.mc), [...seen.map((s) => s.mc)].sort((a, b) => b - a), 'highest balance first');
  assert.is(seen[0]!.mc, 6_000);
  const tampered = await boss.get('/admin/users?sort=balance&cursor=bogus.sig');
  assert.is(tampered.status, 400);
  assert.match(tampered.text, /page link is not valid/);
  const long = await boss.get(`/admin/users?search=${'x'.repeat(300)}`);
  assert.is(long.status, 400);
});

admin('rate card: add a model, change rates as a new version (calls keep the rates they were charged), retire it (400 model_retired); bad input names its field', async ({ t, admin: boss }) => {
  const ann = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: ann.id, amountMc: 1_000_000, reason: 'start' });
  const { key } = await createApiKey(t.db, t.clock, ann.id, 'k');
  const chat = () => t.fetch('/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 20 }) });

  const added = await boss.post('/admin/rates/add', { form: 'add-rate', model: 'acme/large-2', kind: 'chat', label: 'Acme Large', input: '3', output: '12.5', max_output: '8192', reason: 'new upstream' });
  assert.is(added.status, 303);
  const acme = await t.db.selectFrom('rates').selectAll().where('model', '=', 'acme/large-2').execute();
  assert.equal(acme.map((r) => [r.version, r.label, r.input_mc_per_1k, r.cached_input_mc_per_1k, r.output_mc_per_1k, r.max_output_tokens, r.kind]), [[1, 'Acme Large', 3_000, 3_000, 12_500, 8_192, 'chat']]);
  const models = (await (await t.fetch('/v1/models', { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { id: string }[] };
  assert.ok(models.data.some((m) => m.id === 'acme/large-2'), 'listed on /v1/models');
  const again = await boss.post('/admin/rates/add', { form: 'add-rate', model: 'acme/large-2', input: '1', output: '1', reason: 'twice' });
  assert.is(again.status, 422);
  assert.match(again.doc.querySelector('#add-rate-model-error')?.textContent ?? '', /already on the rate card/);
  for (const [form, field] of [
    [{ model: 'bad model!', input: '1', output: '1', reason: 'x' }, 'model'],
    [{ model: 'ok-1', input: '-1', output: '1', reason: 'x' }, 'input'],
    [{ model: 'ok-1', input: '1', output: '1.0001', reason: 'x' }, 'output'],
    [{ model: 'ok-1', input: '1', output: '1', max_output: '0', reason: 'x' }, 'max_output'],
    [{ model: 'ok-1', input: '1', output: '1', reason: '' }, 'reason'],
  ] as const) {
    const refused = await boss.post('/admin/rates/add', { form: 'add-rate', ...form });
    assert.is(refused.status, 422, JSON.stringify(form));
    assert.ok(refused.doc.querySelector(`#add-rate-${field}-error`), field);
  }
  assert.is((await t.db.selectFrom('rates').select('id').where('model', '=', 'ok-1').execute()).length, 0);

  const first = await chat();
  assert.is(first.status, 200);
  const mini = await t.db.selectFrom('rates').selectAll().where('model', '=', 'gpt-4o-mini').executeTakeFirstOrThrow();
  const changed = await boss.post('/admin/rates/change', { form: `rate-${mini.id}`, model: 'gpt-4o-mini', label: 'Eco', input: '1', cached: '0.5', output: '2', max_output: '16384', reason: 'price cut' });
  assert.is(changed.status, 303);
  const second = await chat();
  assert.is(second.status, 200);
  const rows = await t.db.selectFrom('usage').selectAll().where('user_id', '=', ann.id).orderBy('id').execute();
  assert.equal(rows.map((r) => [r.input_mc_per_1k, r.output_mc_per_1k]), [[2_400, 9_600], [1_000, 2_000]], 'each call keeps the rates it was charged');
  // 1 credit per 1k input = 1 mc a token; 2 per 1k output = 2 mc a token.
  assert.is(rows[1]!.charged_mc, rows[1]!.input_tokens + 2 * rows[1]!.output_tokens);
  assert.equal(await audit(t.db), []);

  const retired = await boss.post('/admin/rates/retire', { form: `retire-${mini.id}`, model: 'gpt-4o-mini', reason: 'replaced' });
  assert.is(retired.status, 303);
  const refused = await chat();
  assert.is(refused.status, 400);
  const body = (await refused.json()) as { error: { code: string; param: string; message: string } };
  assert.equal([body.error.code, body.error.param], ['model_retired', 'model']);
  assert.match(body.error.message, /retired/);
  const listed = (await (await t.fetch('/v1/models', { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { id: string }[] };
  assert.not.ok(listed.data.some((m) => m.id === 'gpt-4o-mini'), 'no longer listed');
  assert.equal((await t.db.selectFrom('usage').select(['input_mc_per_1k']).where('user_id', '=', ann.id).orderBy('id').execute()).map((r) => r.input_mc_per_1k), [2_400, 1_000], 'usage rows untouched');
  assert.is((await boss.post('/admin/rates/retire', { model: 'gpt-4o-mini', reason: 'again' })).status, 422, 'already retired');

  const page = await boss.get('/admin/rates');
  assert.is(page.doc.querySelector('details[data-model="gpt-4o-mini"]')?.getAttribute('data-retired'), 'true');
  assert.equal(actionRows(page).map((cells) => [cells[0], cells[1], cells[3]]), [
    ['rate_retire', 'model gpt-4o-mini', 'replaced'],
    ['rate_change', 'model gpt-4o-mini', 'price cut'],
    ['rate_add', 'model acme/large-2', 'new upstream'],
  ]);
  assert.match(actionRows(page)[1]![2]!, /^version 2: input 1\.000, cached input 0\.500, output 2\.000 credits per 1k tokens; max output 16384 tokens; chat$/);
});

admin('packages: add one, change price, credits, order and sale; the Credits tab offers what is on sale; bad fields are 422s', async ({ t, admin: boss }) => {
  const added = await boss.post('/admin/packages/add', { form: 'add-package', id: 'mega', name: 'Mega', price: '199.99', credits: '250000', sort_order: '0', active: '1', reason: 'holiday offer' });
  assert.is(added.status, 303);
  assert.equal(await t.db.selectFrom('packages').select(['name', 'price_cents', 'credits_mc', 'active', 'sort_order', 'currency']).where('id', '=', 'mega').executeTakeFirstOrThrow(), { name: 'Mega', price_cents: 19_999, credits_mc: 250_000_000, active: 1, sort_order: 0, currency: 'usd' });
  const credits = await boss.get('/credits');
  assert.match(credits.text, /Mega/, 'on sale on the Credits tab');
  // Unchecked box: withdrawn from sale.
  assert.is((await boss.post('/admin/packages/change', { form: 'package-mega', id: 'mega', name: 'Mega', price: '199.99', credits: '250000', sort_order: '0', reason: 'offer over' })).status, 303);
  assert.is((await t.db.selectFrom('packages').select('active').where('id', '=', 'mega').executeTakeFirstOrThrow()).active, 0);
  assert.not.match((await boss.get('/credits')).text, /Mega/, 'withdrawn');
  for (const [form, field] of [
    [{ id: 'Bad Id', name: 'X', price: '1.00', credits: '1', sort_order: '1', reason: 'x' }, 'id'],
    [{ id: 'x', name: '', price: '1.00', credits: '1', sort_order: '1', reason: 'x' }, 'name'],
    [{ id: 'x', name: 'X', price: '1.5', credits: '1', sort_order: '1', reason: 'x' }, 'price'],
    [{ id: 'x', name: 'X', price: '0.10', credits: '1', sort_order: '1', reason: 'x' }, 'price'],
    [{ id: 'x', name: 'X', price: '1.00', credits: '0', sort_order: '1', reason: 'x' }, 'credits'],
    [{ id: 'x', name: 'X', price: '1.00', credits: '1', sort_order: '-1', reason: 'x' }, 'sort_order'],
    [{ id: 'x', name: 'X', price: '1.00', credits: '1', sort_order: '1', reason: '' }, 'reason'],
    [{ id: 'mega', name: 'X', price: '1.00', credits: '1', sort_order: '1', reason: 'x' }, 'id'],
  ] as const) {
    const refused = await boss.post('/admin/packages/add', { form: 'add-package', ...form });
    assert.is(refused.status, 422, JSON.stringify(form));
    assert.ok(refused.doc.querySelector(`#add-package-${field}-error`), field);
  }
  assert.is((await t.db.selectFrom('packages').select('id').where('id', '=', 'x').execute()).length, 0);
  const page = await boss.get('/admin/packages');
  assert.is(page.doc.querySelector('details[data-package="mega"]')?.getAttribute('data-active'), '0');
  assert.equal(actionRows(page), [
    ['package_save', 'package mega', 'Mega: $199.99 for 250000.000 credits; not on sale; order 0', 'offer over'],
    ['package_save', 'package mega', 'Mega: $199.99 for 250000.000 credits; on sale; order 0', 'holiday offer'],
  ]);
});

admin('health: pending holds and the oldest, mail failures, database size; the audit on request, clean and then broken', async ({ t, admin: boss }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'start' });
  const placedAtMs = t.clock.now();
  await t.db.insertInto('holds').values({ user_id: user.id, api_key_id: null, request_id: 'req_held', model: 'gpt-4o-mini', rate_id: 1, amount_mc: 3_000, input_mc_per_1k: 2_400, cached_input_mc_per_1k: 1_200, output_mc_per_1k: 9_600, rounding_mode: 'exact', status: 'pending', created_at_ms: placedAtMs, expires_at_ms: placedAtMs + 600_000, ended_at_ms: null }).execute();
  await t.db.updateTable('wallets').set({ held_mc: 3_000 }).where('user_id', '=', user.id).execute();
  await t.db.insertInto('mail_outbox').values({ to_address: 'x@example.com', subject: 'Low balance', body_text: 'secret body', status: 'kept', attempts: 5, next_attempt_at_ms: placedAtMs, claimed_until_ms: null, last_error: 'SMTP 550 mailbox unavailable', created_at_ms: placedAtMs, sent_at_ms: null }).execute();
  t.clock.advance(90_000);
  const page = await boss.get('/admin/health');
  assert.is(page.status, 200);
  assert.is(page.doc.querySelector('.pending-holds')?.textContent, '1');
  assert.match(page.doc.querySelector('.oldest-hold')?.textContent ?? '', /\(90 s ago\)$/);
  assert.match(page.doc.querySelector('.mail-failures')?.textContent ?? '', /Low balance.*kept, 5 attempts: SMTP 550 mailbox unavailable/);
  assert.not.match(page.text, /secret body/, 'no mail body on the page');
  assert.match(page.doc.querySelector('.database-size')?.textContent ?? '', /^\d+\.\d MB$/);
  assert.not.ok(page.doc.querySelector('.audit-result'), 'the audit runs only when asked');
  assert.is((await boss.get('/admin/health?audit=now')).doc.querySelector('.audit-result'), null, 'a GET (a link, an image elsewhere) runs no audit');
  const clean = await boss.post('/admin/health/audit', {});
  assert.is(clean.status, 200);
  assert.is(clean.doc.querySelector('.audit-result')?.getAttribute('data-violations'), '0');
  await t.db.updateTable('wallets').set({ balance_mc: 10_001 }).where('user_id', '=', user.id).execute();
  t.clock.advance(1_000);
  const broken = await boss.post('/admin/health/audit', {});
  assert.ok(Number(broken.doc.querySelector('.audit-result')?.getAttribute('data-violations')) > 0, 'a broken balance is reported');
  await t.db.updateTable('wallets').set({ balance_mc: 10_000 }).where('user_id', '=', user.id).execute();
  const runs = [...broken.doc.querySelectorAll('.audit-runs tbody tr')].map((row) => [...row.querySelectorAll('td')].slice(1, 3).map((cell) => cell.textContent?.trim()));
  assert.equal(runs, [
    ['console (boss@example.com)', '1 violation (invariant 1: 1)'],
    ['console (boss@example.com)', 'ok'],
  ], 'each run kept, newest first, with who ran it and the violations by invariant');
});

admin('health: the audit history in keyset pages, runs from the CLI among them; a tampered page link is a 400', async ({ t, admin: boss }) => {
  for (let i = 0; i < 22; i++) {
    await boss.post('/admin/health/audit', {});
    t.clock.advance(1_000);
  }
  assert.is(await runCli(['audit'], { env: { DATABASE_URL: t.databaseUrl }, clock: t.clock, out: () => {}, err: () => {} }), 0);
  const first = await boss.get('/admin/health');
  const rows = [...first.doc.querySelectorAll('.audit-runs tbody tr')];
  assert.is(rows.length, 20, 'a page of 20');
  assert.is(rows[0]!.querySelector('td[data-label="From"]')?.textContent, 'CLI', 'the CLI run is the newest');
  const older = first.doc.querySelector('.audit-runs ~ nav a[rel="next"], nav[aria-label="Audit history pages"] a[rel="next"]')!.getAttribute('href')!;
  const second = await boss.get(older);
  const secondRows = [...second.doc.querySelectorAll('.audit-runs tbody tr')];
  assert.is(secondRows.length, 3);
  const ids = [...rows, ...secondRows].map((r) => r.getAttribute('data-audit-run'));
  assert.is(new Set(ids).size, 23, 'every run once');
  const back = await boss.get(second.doc.querySelector('nav[aria-label="Audit history pages"] a[rel="prev"]')!.getAttribute('href')!);
  assert.equal([...back.doc.querySelectorAll('.audit-runs tbody tr')].map((r) => r.getAttribute('data-audit-run')), ids.slice(0, 20), 'Newer leads back to the first page');
  const tampered = await boss.get(`/admin/health?cursor=${older.split('cursor=')[1]!.replace(/^./, 'x')}`);
  assert.is(tampered.status, 400);
  assert.match(tampered.doc.querySelector('#health-audit .form-error')?.textContent ?? '', /not valid/);
});

admin('health: every worker with its last round, its result and lag, from worker_runs and the due rows', async ({ t, admin: boss }) => {
  const logged: string[] = [];
  const mailRound = roundRecorder(t.db, t.clock, WORKER_NAMES.mail, 'host:1:ab', (tried: number) => `${tried} mail(s) tried`, (line) => logged.push(line));
  assert.is(await mailRound(async () => 3), 3);
  const okAtMs = t.clock.now();
  t.clock.advance(5_000);
  await mailRound(async () => {
    throw new Error('SMTP down\nstack');
  }).then(
    () => assert.unreachable('the error of the round is thrown on'),
    (error: Error) => assert.is(error.message, 'SMTP down\nstack'),
  );
  await t.db.insertInto('mail_outbox').values({ to_address: 'x@example.com', subject: 'Receipt', body_text: 'b', status: 'pending', attempts: 0, next_attempt_at_ms: t.clock.now() - 42_000, claimed_until_ms: null, last_error: null, created_at_ms: t.clock.now() - 42_000, sent_at_ms: null }).execute();
  const sweep = roundRecorder(t.db, t.clock, 'hold-sweeper', 'host:1:ab', (n: number) => `${n} hold(s) expired`, (line) => logged.push(line));
  await sweep(async () => 0);
  t.clock.advance(100_000);
  const page = await boss.get('/admin/health');
  const row = (name: string) => page.doc.querySelector(`.worker-runs tr[data-worker="${name}"]`)!;
  assert.is(row('mail-sender').getAttribute('data-outcome'), 'failed');
  assert.is(row('mail-sender').querySelector('.worker-result')?.textContent, 'failed: SMTP down', 'the first line of the error');
  assert.match(row('mail-sender').textContent ?? '', new RegExp(utc(okAtMs)), 'when it last worked');
  assert.is(row('mail-sender').getAttribute('data-lag-seconds'), '142', 'the due mail has waited 142 s');
  assert.is(row('hold-sweeper').querySelector('.worker-result')?.textContent, 'ok: 0 hold(s) expired');
  assert.is(row('hold-sweeper').getAttribute('data-lag-seconds'), String(100 - 30), 'a round every 30 s, last one 100 s ago: 70 s behind');
  assert.is(row('promo-expiry').getAttribute('data-outcome'), 'never');
  assert.equal(logged, []);
});

admin("a user's page: purchases with refunds, clawback and shortfall, status only (the owner's Resume and Cancel are not there); usage and ledger with the user's filters and keyset pages", async ({ t, admin: boss }) => {
  const buyer = await signedIn(t, 'dee@example.com');
  const userId = buyer.user.id;
  // A paid purchase, its credits mostly spent, then 60 % refunded: 6,000 credits to take back, 1,000 there.
  const paid = await createPurchase(t.db, t.clock, { userId, pkg: STARTER, saveCard: false, mode: 'demo' });
  await t.db.updateTable('purchases').set({ checkout_session_id: 'cs_admin_paid' }).where('id', '=', paid.id).execute();
  const demo = billingDeps(loadConfig({ PAYMENTS: 'demo' }), t.db, t.clock, () => {})!;
  await t.db.insertInto('demo_checkout_sessions').values({ id: 'cs_admin_paid', purchase_public_id: paid.public_id, amount_subtotal_cents: 1_000, currency: 'usd', status: 'complete', payment_status: 'paid', created_at_ms: t.clock.now(), paid_at_ms: t.clock.now() }).execute();
  assert.is((await fulfilCheckoutSession(demo, 'cs_admin_paid')).kind, 'credited');
  const rate = await rateOf(t.db, 'gpt-4o');
  const mini = await rateOf(t.db, 'gpt-4o-mini');
  // 30 calls: one on gpt-4o of 112,500 output tokens (9,000 credits) and 29 of one output token on
  // gpt-4o-mini (9.6 mc, charged 10 mc each): 999,710 mc left.
  for (let i = 0; i < 30; i++) {
    const big = i === 0;
    const hold = await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId: `req_admin_${i}`, rate: big ? rate : mini, roundingMode: 'exact', amountMc: big ? 9_000_000 : 10_000, ttlMs: 600_000 });
    await settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens: big ? 112_500 : 1 }, status: 'ok', estimated: false, latencyMs: 1 });
    t.clock.advance(1_000);
  }
  const refunded = await t.db.selectFrom('purchases').selectAll().where('id', '=', paid.id).executeTakeFirstOrThrow();
  await writeTransaction(t.db, (trx) => applyRefundIn(trx, t.clock.now(), refunded, { chargeId: 'ch_admin', amountRefundedCents: 600 }));
  // And one left at checkout, whose Checkout page is still open: its owner may resume or cancel it.
  const pending = await createPurchase(t.db, t.clock, { userId, pkg: STARTER, saveCard: false, mode: 'demo' });
  await t.db.updateTable('purchases').set({ checkout_session_id: 'cs_admin_open', checkout_url: 'https://checkout.example/cs_admin_open' }).where('id', '=', pending.id).execute();
  const owner = await buyer.browser.get('/credits');
  assert.ok(owner.doc.querySelector(`#purchases tr[data-purchase="${pending.public_id}"] form[action$="/cancel"]`), 'the owner sees Cancel');

  const page = await boss.get(`/admin/users/${userId}`);
  assert.is(page.status, 200);
  const row = (id: string) => page.doc.querySelector(`#purchases tr[data-purchase="${id}"]`)!;
  assert.is(row(paid.public_id).querySelector('.purchase-refunded')?.textContent, '$6.00');
  assert.is(row(paid.public_id).querySelector('.purchase-clawed-back')?.getAttribute('data-mc'), '999710', 'what the balance still had');
  assert.is(row(paid.public_id).querySelector('.purchase-shortfall')?.getAttribute('data-mc'), '5000290', 'the rest of the 6,000 credits was already spent');
  assert.is(row(paid.public_id).querySelector('.purchase-status')?.textContent, 'partially refunded');
  assert.is(row(pending.public_id).querySelector('.purchase-status')?.textContent, 'pending');
  assert.not.ok(page.doc.querySelector('#purchases a[data-resume], #purchases form[action*="/credits/"], a[href^="https://checkout.example"]'), 'no Resume, no Cancel: the owner\'s, not the admin\'s');
  assert.not.match(page.doc.querySelector('#purchases')?.textContent ?? '', /Resume|Cancel/);

  // Usage: 25 a page, Older leads to the console's own URL, the rest there; nothing twice.
  const usageRows = (answer: Answer) => [...answer.doc.querySelectorAll('#usage-results tbody tr')].map((r) => r.getAttribute('data-request-id'));
  assert.is(usageRows(page).length, 25);
  const older = page.doc.querySelector('#usage-results a[rel="next"]')!.getAttribute('href')!;
  assert.match(older, new RegExp(`^/admin/users/${userId}/usage\\?cursor=[^&#]+#usage$`));
  const second = await boss.get(older);
  assert.is(second.status, 200);
  assert.is(new Set([...usageRows(page), ...usageRows(second)]).size, 30, 'every call once');
  assert.not.ok(page.doc.querySelector('#usage-results a[href^="/credits/"]'), 'no link into the signed-in admin\'s own Credits tab');
  // The user's filters: one model, as a full page and as htmx's swap of the results with the URL pushed.
  const filtered = await boss.get(`/admin/users/${userId}/usage?model=gpt-4o`);
  assert.equal(usageRows(filtered), ['req_admin_0']);
  assert.is(filtered.doc.querySelector('#usage-filters')?.getAttribute('action'), `/admin/users/${userId}/usage#usage`);
  assert.is((filtered.doc.querySelector('#usage-model option[selected]') as HTMLOptionElement | null)?.value, 'gpt-4o');
  const swapped = await boss.get(`/admin/users/${userId}/usage?model=gpt-4o&key=`, { htmx: true });
  assert.is(swapped.headers.get('hx-push-url'), `/admin/users/${userId}/usage?model=gpt-4o#usage`);
  assert.ok(swapped.text.startsWith('<div id="usage-results"'), 'the results alone');
  assert.equal(usageRows(swapped), ['req_admin_0']);
  const bad = await boss.get(`/admin/users/${userId}/usage?from=yesterday`);
  assert.is(bad.status, 400);
  assert.match(bad.doc.querySelector('#usage-results .form-error')?.textContent ?? '', /date/i);
  // The ledger: the purchase, 30 usage entries and the refund; filtered by type and paged the same way.
  const ledgerRows = (answer: Answer) => [...answer.doc.querySelectorAll('#ledger-results tbody tr')].map((r) => r.getAttribute('data-entry-id'));
  const refunds = await boss.get(`/admin/users/${userId}/ledger?type=refund`);
  assert.equal([...refunds.doc.querySelectorAll('#ledger-results tbody td[data-label="Amount"]')].map((c) => c.getAttribute('data-mc')), ['-999710']);
  const ledgerFirst = await boss.get(`/admin/users/${userId}/ledger`);
  const ledgerNext = await boss.get(ledgerFirst.doc.querySelector('#ledger-results a[rel="next"]')!.getAttribute('href')!);
  assert.is(new Set([...ledgerRows(ledgerFirst), ...ledgerRows(ledgerNext)]).size, 32);
  assert.is((await boss.get(`/admin/users/${userId}/purchases?cursor=forged`)).status, 400);
});

admin('purchases: every user\'s, newest first, filtered by status, in keyset pages; reconcile now is recorded', async ({ t, admin: boss }) => {
  const pkg = { id: 'starter', name: 'Starter', price_cents: 1_000, currency: 'usd', credits_mc: 10_000_000 };
  const users = [await makeUser(t.db, t.clock, 'p1@example.com'), await makeUser(t.db, t.clock, 'p2@example.com')];
  for (let i = 0; i < 60; i++) {
    const purchase = await createPurchase(t.db, t.clock, { userId: users[i % 2]!.id, pkg, saveCard: false, mode: 'demo' });
    if (i % 3 === 0) await t.db.updateTable('purchases').set({ status: 'failed' }).where('id', '=', purchase.id).execute();
    t.clock.advance(1_000);
  }
  const first = await boss.get('/admin/purchases');
  const rows = [...first.doc.querySelectorAll('.admin-purchases-table tbody tr')];
  assert.is(rows.length, 50);
  assert.equal(new Set(rows.map((r) => r.querySelector('td[data-label="User"]')?.textContent)), new Set(['p1@example.com', 'p2@example.com']), 'every user\'s');
  const next = first.doc.querySelector('a[rel="next"]')!.getAttribute('href')!;
  const second = await boss.get(next);
  assert.is(second.doc.querySelectorAll('.admin-purchases-table tbody tr').length, 10);
  const ids = [...rows, ...second.doc.querySelectorAll('.admin-purchases-table tbody tr')].map((r) => r.getAttribute('data-purchase'));
  assert.is(new Set(ids).size, 60, 'no purchase twice');
  const failed = await boss.get('/admin/purchases?status=failed');
  assert.equal([...new Set([...failed.doc.querySelectorAll('.admin-purchases-table tbody tr')].map((r) => r.getAttribute('data-status')))], ['failed']);
  assert.is(failed.doc.querySelectorAll('.admin-purchases-table tbody tr').length, 20);
  assert.is((await boss.post('/admin/purchases/reconcile', { reason: '' })).status, 422);
  const reconciled = await boss.post('/admin/purchases/reconcile', { reason: 'webhook outage' });
  assert.is(reconciled.status, 303);
  const page = await boss.get(reconciled.headers.get('location')!);
  assert.match(page.doc.querySelector('.notice')?.textContent ?? '', /^Reconciled: \d+ looked up, 0 credited\.$/);
  assert.equal(actionRows(page).map((cells) => [cells[0], cells[1], cells[3]]), [['reconcile', 'purchases', 'webhook outage']]);
});

admin.run();
