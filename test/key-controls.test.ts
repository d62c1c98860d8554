// Key controls (allowed models, an address allowlist, an expiry, requests per minute): the official
// openai SDK → tokentab on a real port → the fake upstream, each control refusing with its status and
// code with nothing held, charged or sent, the allowed path charged exactly; TRUST_PROXY deciding
// whose address counts; requests per minute exact under parallel requests and across OS processes;
// the keys page's form through the DOM. The books are checked after every scenario (gatewaySuite).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import { addressAllowed, canonicalCidr, NO_CONTROLS, type KeyControls } from '../src/keys/controls.ts';
import { setKeyControls } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { parse, type Browser, type TestApp } from './helpers/app.ts';
import { rejects } from './helpers/assert.ts';
import { freshDb, makeUser, type TestDb } from './helpers/db.ts';
import { balanceOf, gatewaySuite, usageRow, type Account, type GatewayHarness } from './helpers/gateway.ts';
import { killAll, startWorker } from './helpers/processes.ts';
import { signedInSuite } from './helpers/signed-in.ts';
import { createApiKey } from '../src/keys/keys.ts';

const START_BALANCE_MC = 100_000_000;
const messages = [{ role: 'user' as const, content: 'What does a ledger do?' }];
/** gpt-4o-mini at 1,000 input and 1,000 output tokens: the first seed case, 12.000 credits. */
const SEED_USAGE = { prompt_tokens: 1_000, completion_tokens: 1_000 };
const SEED_CHARGE_MC = 12_000;

async function controlled(h: GatewayHarness, controls: Partial<KeyControls>, init: ConstructorParameters<typeof OpenAI>[0] = {}): Promise<Account> {
  const account = await h.account(START_BALANCE_MC);
  assert.ok(await setKeyControls(h.db, account.userId, account.apiKeyId, { ...NO_CONTROLS, ...controls }));
  return { ...account, client: new OpenAI({ apiKey: account.key, baseURL: `${h.url}/v1`, maxRetries: 0, ...init }) };
}

/** A refused call: no hold, no usage row, the balance as it was, nothing sent upstream. */
async function assertNothingHappened(h: GatewayHarness, account: Account, what: string) {
  const holds = await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute();
  assert.is(holds.length, 0, `${what}: nothing held`);
  const usage = await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute();
  assert.is(usage.length, 0, `${what}: no usage row`);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: START_BALANCE_MC, held_mc: 0 }, `${what}: balance untouched`);
  assert.is(h.fake.requests.length, 0, `${what}: nothing sent upstream`);
}

/** One seed call through the SDK, charged exactly 12.000 credits. */
async function assertChargedExactly(h: GatewayHarness, account: Account) {
  h.fake.setBehaviour({ kind: 'ok', usage: SEED_USAGE });
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 2_000 }).withResponse();
  assert.is(response.headers.get('x-credits-charged'), '12.000');
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.charged_mc, SEED_CHARGE_MC);
  assert.is(row.api_key_id, account.apiKeyId);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: START_BALANCE_MC - SEED_CHARGE_MC, held_mc: 0 });
}

const api = gatewaySuite('key controls over the API');

async function rateEventsOf(h: GatewayHarness, account: Account): Promise<number> {
  return (await h.db.selectFrom('rate_limit_events').select('id').where('scope_key', '=', `key-rpm:${account.apiKeyId}`).execute()).length;
}

api('allowed models: another model is 403 model_not_allowed naming it (chat, Responses, embeddings) before any hold; an allowed one is charged exactly; /v1/models lists only the allowed', async ({ h }) => {
  const account = await controlled(h, { allowedModels: ['gpt-4o-mini'] });
  const chat = (await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 100 }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
  assert.is(chat.status, 403);
  assert.is(chat.code, 'model_not_allowed');
  assert.is(chat.param, 'model');
  assert.is(chat.type, 'permission_error');
  assert.match(chat.message, /may not call the model 'gpt-4o'\. It may call: gpt-4o-mini\./);
  assert.equal((chat.error as { allowedModels: string[] }).allowedModels, ['gpt-4o-mini']);
  // A stream is refused the same way, before its first byte.
  const stream = (await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
  assert.is(stream.code, 'model_not_allowed');
  const responses = (await rejects(() => account.client.responses.create({ model: 'gpt-4o', input: 'Hello' }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
  assert.is(responses.code, 'model_not_allowed');
  const embeddings = (await rejects(() => account.client.embeddings.create({ model: 'text-embedding-3-small', input: 'Hello' }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
  assert.is(embeddings.code, 'model_not_allowed');
  assert.match(embeddings.message, /'text-embedding-3-small'/);
  // A model on no rate card is not allowed either: the key's list is checked first.
  const unknown = (await rejects(() => account.client.chat.completions.create({ model: 'gpt-9', messages }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
  assert.is(unknown.code, 'model_not_allowed');
  await assertNothingHappened(h, account, 'a model the key may not call');

  const models = await account.client.models.list();
  assert.equal(models.data.map((model) => model.id), ['gpt-4o-mini'], 'only the allowed model is listed');
  await assertChargedExactly(h, account);
  // An unlimited key of the same user's kind still sees the whole card.
  const other = await h.account(0);
  assert.is((await other.client.models.list()).data.length, 4);
});

api('expiry: the key works until its instant on the test clock, then every route that takes it answers 401 key_expired (the API, the usage record, the CSV export)', async ({ h }) => {
  const expiresAtMs = h.clock.now() + 60_000;
  const account = await controlled(h, { expiresAtMs });
  h.clock.set(expiresAtMs - 1);
  await assertChargedExactly(h, account);
  const requestId = (await h.db.selectFrom('usage').select('request_id').where('user_id', '=', account.userId).executeTakeFirstOrThrow()).request_id;
  h.fake.reset();
  h.clock.set(expiresAtMs);
  const refused = (await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 100 }), OpenAI.AuthenticationError)) as InstanceType<typeof OpenAI.AuthenticationError>;
  assert.is(refused.status, 401);
  assert.is(refused.code, 'key_expired');
  assert.match(refused.message, /expired at the end of 2026-11-26 \(UTC\)/);
  for (const path of ['/v1/credits', '/v1/models', `/v1/usage/${requestId}`, '/credits/usage.csv', '/credits/ledger.csv']) {
    const answer = await fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${account.key}` } });
    assert.is(answer.status, 401, path);
    const body = (await answer.json()) as { error: { code: string; type: string; param: null } };
    assert.is(body.error.code, 'key_expired', path);
    assert.is(body.error.type, 'invalid_request_error', path);
  }
  const rows = await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute();
  assert.is(rows.length, 1, 'only the call before the expiry');
  assert.is(h.fake.requests.length, 0, 'nothing sent upstream after the expiry');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: START_BALANCE_MC - SEED_CHARGE_MC, held_mc: 0 });
});

api('address allowlist without TRUST_PROXY: the socket address decides (127.0.0.1 here), a forged X-Forwarded-For changes nothing; 403 ip_not_allowed; IPv4-mapped ranges match', async ({ h }) => {
  const elsewhere = await controlled(h, { allowedCidrs: ['10.0.0.0/8'] }, { defaultHeaders: { 'x-forwarded-for': '10.1.2.3' } });
  const refused = (await rejects(() => elsewhere.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 100 }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
  assert.is(refused.status, 403);
  assert.is(refused.code, 'ip_not_allowed');
  assert.match(refused.message, /from the address 127\.0\.0\.1\b/);
  const credits = await fetch(`${h.url}/v1/credits`, { headers: { authorization: `Bearer ${elsewhere.key}`, 'x-forwarded-for': '10.1.2.3' } });
  assert.is(credits.status, 403, 'every route that takes the key');
  assert.is(((await credits.json()) as { error: { code: string } }).error.code, 'ip_not_allowed');
  await assertNothingHappened(h, elsewhere, 'a call from outside the allowlist');

  for (const cidrs of [['198.51.100.0/24', '127.0.0.0/8'], ['127.0.0.1/32'], ['::ffff:127.0.0.0/104']]) {
    h.fake.reset();
    const here = await controlled(h, { allowedCidrs: cidrs });
    await assertChargedExactly(h, here);
  }
});

api('requests per minute: 10 parallel calls on a key allowed 4 a minute → exactly 4 answered and charged, 6 refused 429 rate_limited with Retry-After; a minute later it takes calls again', async ({ h }) => {
  const account = await controlled(h, { requestsPerMinute: 4 });
  h.fake.setBehaviour({ kind: 'ok', usage: SEED_USAGE });
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 2_000 })));
  const answered = outcomes.filter((outcome) => outcome.status === 'fulfilled');
  const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as InstanceType<typeof OpenAI.RateLimitError>] : []));
  assert.is(answered.length, 4, 'exactly the limit passes');
  assert.is(refused.length, 6);
  for (const error of refused) {
    assert.instance(error, OpenAI.RateLimitError);
    assert.is(error.code, 'rate_limited');
    assert.is(error.type, 'rate_limit_error');
    assert.is(error.headers?.get('retry-after'), '60', 'the first of the minute leaves the window in 60 s on the test clock');
    assert.equal([(error.error as { scope: string }).scope, (error.error as { limit: number }).limit], ['key', 4]);
  }
  assert.is(h.fake.requests.length, 4, 'only the 4 reached the upstream');
  const rows = await h.db.selectFrom('usage').select('charged_mc').where('user_id', '=', account.userId).execute();
  assert.equal(rows.map((row) => row.charged_mc), [SEED_CHARGE_MC, SEED_CHARGE_MC, SEED_CHARGE_MC, SEED_CHARGE_MC]);
  assert.is((await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute()).length, 4, 'no hold for a refused call');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: START_BALANCE_MC - 4 * SEED_CHARGE_MC, held_mc: 0 });

  h.clock.advance(59_999);
  const stillOver = (await rejects(() => account.client.models.list(), OpenAI.RateLimitError)) as InstanceType<typeof OpenAI.RateLimitError>;
  assert.is(stillOver.headers?.get('retry-after'), '1');
  h.clock.advance(1);
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 2_000 }).withResponse();
  assert.is(response.headers.get('x-credits-charged'), '12.000', 'the window moved on');
  // A key without a limit writes no rate event at all.
  const free = await h.account(START_BALANCE_MC);
  await Promise.all(Array.from({ length: 10 }, () => free.client.models.list()));
  const events = await h.db.selectFrom('rate_limit_events').select('scope_key').execute();
  assert.ok(events.every((event) => event.scope_key === `key-rpm:${account.apiKeyId}`), 'only the limited key is counted');
});

api('the controls are checked in order: an expired key is 401 whatever its address, a key from the wrong address is 403 and not counted towards its minute', async ({ h }) => {
  const account = await controlled(h, { allowedCidrs: ['10.0.0.0/8'], expiresAtMs: h.clock.now() + 1, requestsPerMinute: 1 });
  assert.is(((await rejects(() => account.client.models.list(), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>).code, 'ip_not_allowed');
  assert.is(await rateEventsOf(h, account), 0, 'a refused address takes no request from the minute');
  h.clock.advance(1);
  assert.is(((await rejects(() => account.client.models.list(), OpenAI.AuthenticationError)) as InstanceType<typeof OpenAI.AuthenticationError>).code, 'key_expired');
  await assertNothingHappened(h, account, 'refused keys');
});

api.run();

// Behind one proxy: the address one hop back in X-Forwarded-For is the client's.
const proxied = gatewaySuite('key controls behind TRUST_PROXY=1', { env: { TRUST_PROXY: '1' } });

proxied('the forwarded address decides (IPv4, IPv6, IPv4-mapped); a forged entry further left is ignored', async ({ h }) => {
  const cases: { cidrs: string[]; forwardedFor: string; allowed: boolean }[] = [
    { cidrs: ['10.0.0.0/8'], forwardedFor: '10.1.2.3', allowed: true },
    { cidrs: ['10.0.0.0/8'], forwardedFor: '10.1.2.3, 203.0.113.9', allowed: false },
    { cidrs: ['10.0.0.0/8'], forwardedFor: '::ffff:10.9.8.7', allowed: true },
    { cidrs: ['2001:db8::/32'], forwardedFor: '2001:db8:1::7', allowed: true },
    { cidrs: ['2001:db8::/32'], forwardedFor: '2001:db9::7', allowed: false },
    { cidrs: ['127.0.0.1'], forwardedFor: '198.51.100.4', allowed: false },
  ];
  for (const { cidrs, forwardedFor, allowed } of cases) {
    h.fake.reset();
    const account = await controlled(h, { allowedCidrs: cidrs.map((cidr) => canonicalCidr(cidr)!) }, { defaultHeaders: { 'x-forwarded-for': forwardedFor } });
    if (allowed) {
      await assertChargedExactly(h, account);
    } else {
      const refused = (await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 100 }), OpenAI.PermissionDeniedError)) as InstanceType<typeof OpenAI.PermissionDeniedError>;
      assert.is(refused.code, 'ip_not_allowed', `${forwardedFor} against ${cidrs}`);
      await assertNothingHappened(h, account, `${forwardedFor} against ${cidrs}`);
    }
  }
});

proxied.run();

const cidrs = suite('address ranges');

cidrs('canonical forms, and what is not an address or range', () => {
  assert.is(canonicalCidr(' 203.0.113.7 '), '203.0.113.7/32');
  assert.is(canonicalCidr('2001:DB8::/32'), '2001:db8::/32');
  assert.is(canonicalCidr('::1'), '::1/128');
  assert.is(canonicalCidr('10.0.0.0/0'), '10.0.0.0/0');
  for (const bad of ['', '10.0.0.300', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', 'example.com', 'fe80::1%eth0', '010.0.0.1', '1'.repeat(70)]) {
    assert.is(canonicalCidr(bad), null, bad);
  }
});

cidrs('membership: IPv4, IPv6, IPv4-mapped both ways, zones, and no address at all', () => {
  assert.ok(addressAllowed(['10.0.0.5/24'], '10.0.0.200'), 'host bits of the range ignored');
  assert.not.ok(addressAllowed(['10.0.0.0/24'], '10.0.1.1'));
  assert.ok(addressAllowed(['10.0.0.0/24'], '::ffff:10.0.0.9'), 'a dual-stack socket’s IPv4 client');
  assert.ok(addressAllowed(['::ffff:10.0.0.0/120'], '10.0.0.9'));
  assert.ok(addressAllowed(['fe80::/10'], 'fe80::1%eth0'));
  assert.ok(addressAllowed(['0.0.0.0/0'], '192.0.2.1'));
  assert.not.ok(addressAllowed(['0.0.0.0/0'], 'unknown'), 'no socket address: refused');
});

cidrs.run();

// Several OS processes count one key's minute in one database.
const processes = suite<{ t: TestDb }>('requests per minute across processes');
processes.before.each(async (context) => {
  context.t = await freshDb();
});
processes.after.each(async (context) => {
  killAll();
  await context.t.close();
});

processes('3 processes × 5 requests at once on a key allowed 4 a minute: exactly 4 taken in all', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  const { apiKey } = await createApiKey(t.db, t.clock, user.id, 'shared');
  const workers = Array.from({ length: 3 }, () => startWorker('test/workers/key-rate-worker.ts', [t.databaseUrl, String(apiKey.id), '4', '5']));
  await Promise.all(workers.map((worker) => worker.waitFor('ready')));
  for (const worker of workers) worker.child.stdin!.write('go\n');
  const results = (await Promise.all(workers.map((worker) => worker.waitFor('result ')))).map((json) => JSON.parse(json) as { taken: number; refused: number; errors: string[] });
  assert.equal(results.flatMap((result) => result.errors), [], 'no error but the limit');
  assert.is(results.reduce((sum, result) => sum + result.taken, 0), 4);
  assert.is(results.reduce((sum, result) => sum + result.refused, 0), 11);
  const events = await t.db.selectFrom('rate_limit_events').select('id').where('scope_key', '=', `key-rpm:${apiKey.id}`).execute();
  assert.is(events.length, 4);
});

processes.run();

// The keys page: each key's controls through the DOM.
const page = signedInSuite('key controls on the keys page', 'controls@example.com');

/** The named form's fields as a browser would send them: checked boxes and radios only. */
function formValues(form: Element): [string, string][] {
  const values: [string, string][] = [];
  for (const element of Array.from(form.querySelectorAll('input, textarea'))) {
    const name = element.getAttribute('name');
    if (!name) continue;
    if (element.tagName === 'TEXTAREA') values.push([name, (element as HTMLTextAreaElement).value]);
    else {
      const input = element as HTMLInputElement;
      if ((input.type === 'checkbox' || input.type === 'radio') && !input.checked) continue;
      values.push([name, input.value]);
    }
  }
  return values;
}

/** Types into a key's controls form as a person would: a radio, boxes ticked, the three fields. */
function fill(form: Element, values: { models?: 'all' | 'some'; tick?: string[]; cidrs: string; expires: string; requestsPerMinute: string }) {
  if (values.models) (form.querySelector(`input[name="models"][value="${values.models}"]`) as HTMLInputElement).checked = true;
  for (const model of values.tick ?? []) (form.querySelector(`input[name="allowed_model"][value="${model}"]`) as HTMLInputElement).checked = true;
  (form.querySelector('textarea[name="cidrs"]') as HTMLTextAreaElement).value = values.cidrs;
  (form.querySelector('input[name="expires"]') as HTMLInputElement).value = values.expires;
  (form.querySelector('input[name="requests_per_minute"]') as HTMLInputElement).value = values.requestsPerMinute;
}

async function postForm(t: TestApp, browser: Browser, form: Element, htmx: boolean) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin, cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  if (htmx) headers['HX-Request'] = 'true';
  const response = await t.fetch(form.getAttribute(htmx ? 'hx-post' : 'action')!, { method: 'POST', headers, body: new URLSearchParams(formValues(form)).toString() });
  const text = await response.text();
  return { status: response.status, doc: parse(text), text };
}

page('set through the form: models ticked, addresses one a line, last day, requests a minute; each bad field marked and nothing saved; saved values shown and enforced', async ({ t, browser, userId }) => {
  const { key, apiKey } = await createApiKey(t.db, t.clock, userId, 'ci');
  await grantCredits(t.db, t.clock, { userId, amountMc: START_BALANCE_MC, reason: 'test' });
  const list = await browser.get('/keys');
  const summary = list.doc.querySelector(`tr[data-key-id="${apiKey.id}"] .key-controls-summary`)!.textContent!;
  assert.match(summary, /All models[\s\S]*Any address[\s\S]*Never expires[\s\S]*No request limit/);
  const form = list.doc.querySelector(`#key-${apiKey.id}-controls form`)!;
  assert.is(form.getAttribute('action'), `/keys/${apiKey.id}/controls`);
  const choices = Array.from(form.querySelectorAll('input[name="allowed_model"]')).map((box) => box.getAttribute('value'));
  assert.equal(choices.sort(), ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-large', 'text-embedding-3-small'], 'the rate card’s models to tick');
  assert.ok((form.querySelector('input[name="models"][value="all"]') as HTMLInputElement).checked, 'all models by default');

  // Bad values, each marked; nothing saved.
  fill(form, { models: 'some', cidrs: '203.0.113.0/24\n10.0.0.300\n', expires: '2026-11-25', requestsPerMinute: '0' });
  const bad = await postForm(t, browser, form, true);
  assert.is(bad.status, 422);
  const badForm = bad.doc.querySelector(`#key-${apiKey.id}-controls`)!;
  assert.ok(badForm.hasAttribute('open'), 'the form stays open');
  assert.is(badForm.querySelector('textarea[name="cidrs"]')?.getAttribute('aria-invalid'), 'true', 'the bad CIDR is marked');
  assert.match(badForm.textContent ?? '', /Not an IP address or CIDR range: “10\.0\.0\.300”/);
  assert.is(badForm.querySelector('textarea[name="cidrs"]')?.textContent, '203.0.113.0/24\n10.0.0.300\n', 'what was typed is kept');
  assert.is(badForm.querySelector('input[name="expires"]')?.getAttribute('aria-invalid'), 'true');
  assert.is(badForm.querySelector('input[name="requests_per_minute"]')?.getAttribute('aria-invalid'), 'true');
  assert.is(badForm.querySelector('input[name="models"][value="some"]')?.getAttribute('aria-invalid'), 'true', 'some models but none ticked');
  assert.not.ok(bad.doc.querySelector('header.top'), 'htmx gets the panel alone');
  const stored = await t.db.selectFrom('api_keys').select(['allowed_models', 'allowed_cidrs', 'expires_at_ms', 'requests_per_minute']).where('id', '=', apiKey.id).executeTakeFirstOrThrow();
  assert.equal(stored, { allowed_models: null, allowed_cidrs: null, expires_at_ms: null, requests_per_minute: null }, 'nothing saved');

  // Good values from the re-rendered form, posted without htmx.
  const again = bad.doc.querySelector(`#key-${apiKey.id}-controls form`)!;
  fill(again, { tick: ['gpt-4o-mini'], cidrs: '203.0.113.0/24\r\n2001:DB8::/32\r\n203.0.113.0/24', expires: '2026-12-10', requestsPerMinute: '60' });
  const saved = await postForm(t, browser, again, false);
  assert.is(saved.status, 200);
  assert.ok(saved.doc.querySelector('header.top'), 'without htmx the whole page');
  assert.equal(await t.db.selectFrom('api_keys').select(['allowed_models', 'allowed_cidrs', 'expires_at_ms', 'requests_per_minute']).where('id', '=', apiKey.id).executeTakeFirstOrThrow(), {
    allowed_models: '["gpt-4o-mini"]',
    allowed_cidrs: '["203.0.113.0/24","2001:db8::/32"]',
    expires_at_ms: Date.UTC(2026, 11, 11),
    requests_per_minute: 60,
  });
  const shown = saved.doc.querySelector(`#key-${apiKey.id}-controls`)!;
  assert.match(shown.querySelector('[role="status"]')?.textContent ?? '', /Saved/);
  assert.is(shown.querySelector('input[name="expires"]')?.getAttribute('value'), '2026-12-10');
  assert.is(shown.querySelector('textarea[name="cidrs"]')?.textContent, '203.0.113.0/24\n2001:db8::/32');
  assert.match(saved.doc.querySelector(`tr[data-key-id="${apiKey.id}"] .key-controls-summary`)?.textContent ?? '', /Models: gpt-4o-mini[\s\S]*From: 203\.0\.113\.0\/24, 2001:db8::\/32[\s\S]*Works through 2026-12-10[\s\S]*60 requests a minute/);

  // Enforced at once: t.fetch comes from 203.0.113.7 by default, inside the range.
  const bearer = { authorization: `Bearer ${key}` };
  const models = (await (await t.fetch('/v1/models', { headers: bearer })).json()) as { data: { id: string }[] };
  assert.equal(models.data.map((model) => model.id), ['gpt-4o-mini']);
  assert.is((await t.fetch('/v1/models', { headers: bearer }, '198.51.100.1')).status, 403);
  // 15 days on: the session (30 days) still signed in, the key past its last day.
  t.clock.set(Date.UTC(2026, 11, 11));
  assert.is((await t.fetch('/v1/models', { headers: bearer })).status, 401);
  assert.match((await browser.get('/keys')).doc.querySelector(`tr[data-key-id="${apiKey.id}"]`)?.textContent ?? '', /Expired after 2026-12-10[\s\S]*Expired/);

  // Back to no controls: empty fields and all models.
  const reset = (await browser.get('/keys')).doc.querySelector(`#key-${apiKey.id}-controls form`)!;
  fill(reset, { models: 'all', cidrs: '', expires: '', requestsPerMinute: '' });
  assert.is((await postForm(t, browser, reset, true)).status, 200);
  assert.equal(await t.db.selectFrom('api_keys').select(['allowed_models', 'allowed_cidrs', 'expires_at_ms', 'requests_per_minute']).where('id', '=', apiKey.id).executeTakeFirstOrThrow(), {
    allowed_models: null,
    allowed_cidrs: null,
    expires_at_ms: null,
    requests_per_minute: null,
  });
  assert.is((await t.fetch('/v1/models', { headers: bearer }, '198.51.100.1')).status, 200);
});

page('bounds: 51 ranges, a model not on the card, a past day, 10,001 a minute are refused naming the field; another user’s key is 404', async ({ t, browser, userId }) => {
  const { apiKey } = await createApiKey(t.db, t.clock, userId, 'ci');
  const post = (form: Record<string, string | string[]>) => {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) for (const item of [value].flat()) body.append(name, item);
    return t.fetch(`/keys/${apiKey.id}/controls`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin, cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'HX-Request': 'true' }, body: body.toString() });
  };
  const many = Array.from({ length: 51 }, (_, i) => `10.0.${i}.0/24`).join('\n');
  const answer = await post({ models: 'some', allowed_model: ['gpt-4o-mini', 'gpt-9'], cidrs: many, expires: '2026-11-25', requests_per_minute: '10001' });
  assert.is(answer.status, 422);
  const doc = parse(await answer.text());
  const text = doc.querySelector(`#key-${apiKey.id}-controls`)?.textContent ?? '';
  assert.match(text, /Not on the rate card: gpt-9/);
  assert.match(text, /at most 50 addresses/);
  assert.match(text, /today or a later day/);
  assert.match(text, /from 1 to 10,000 requests a minute/);
  const notADay = parse(await (await post({ models: 'all', cidrs: '', expires: '2026-02-30', requests_per_minute: '' })).text());
  assert.is(notADay.querySelector(`#key-${apiKey.id}-controls input[name="expires"]`)?.getAttribute('aria-invalid'), 'true', 'February 30th is no day');
  assert.is((await t.db.selectFrom('api_keys').select('allowed_models').where('id', '=', apiKey.id).executeTakeFirstOrThrow()).allowed_models, null);
  // Today (UTC) is the earliest last day: the key works to its end.
  assert.is((await post({ models: 'all', cidrs: '', expires: '2026-11-26', requests_per_minute: '' })).status, 200);
  assert.is((await t.db.selectFrom('api_keys').select('expires_at_ms').where('id', '=', apiKey.id).executeTakeFirstOrThrow()).expires_at_ms, Date.UTC(2026, 10, 27));
  const intruder = t.browser('198.51.100.9');
  await intruder.signUp('controls-intruder@example.com');
  const foreign = await intruder.post(`/keys/${apiKey.id}/controls`, { models: 'all', cidrs: '10.0.0.0/8', expires: '', requests_per_minute: '' });
  assert.is(foreign.status, 404);
  assert.is((await t.db.selectFrom('api_keys').select('allowed_cidrs').where('id', '=', apiKey.id).executeTakeFirstOrThrow()).allowed_cidrs, null);
});

page.run();
