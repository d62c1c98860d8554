// The playground through the DOM: the reply with its cost and usage link, the balance card swapped
// out of band, the out-of-credits call to action on 402, fields marked on 422; with and without htmx.
import * as assert from 'uvu/assert';
import { demoReplyText } from '../src/gateway/demo-model.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { countChatInputTokens, holdInputTokens } from '../src/gateway/tokens.ts';
import { rateOf } from './helpers/db.ts';
import type { TestApp } from './helpers/app.ts';
import { assertBooksClean } from './helpers/gateway.ts';
import { signedInSuite } from './helpers/signed-in.ts';

const playground = signedInSuite('playground', 'player@example.com', { afterEach: ({ t }) => assertBooksClean(t) });

const grant = (t: TestApp, userId: number, amountMc: number) => grantCredits(t.db, t.clock, { userId, amountMc, reason: 'test' });
const prompt = 'What is a hold, in one sentence?';

playground('signed out, the page sends you to sign in', async ({ t }) => {
  const answer = await t.browser().get('/playground');
  assert.is(answer.status, 303);
  assert.is(answer.headers.get('location'), '/login');
});

playground('the page: the balance card, a model list from the rate card, a prompt and optional max tokens, a form that works without JS', async ({ t, browser, userId }) => {
  await grant(t, userId, 5_000_000);
  const answer = await browser.get('/playground');
  assert.is(answer.status, 200);
  const doc = answer.doc;
  assert.is(doc.querySelector('nav a[aria-current="page"]')?.getAttribute('href'), '/playground');
  assert.is(doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), '5000000');
  const form = doc.querySelector('#playground-panel form')!;
  assert.is(form.getAttribute('method'), 'post');
  assert.is(form.getAttribute('action'), '/playground');
  assert.is(form.getAttribute('hx-post'), '/playground');
  const options = [...doc.querySelectorAll('select[name="model"] option')].map((option) => option.getAttribute('value'));
  assert.equal(options, ['gpt-4o', 'gpt-4o-mini']);
  assert.ok(doc.querySelector('textarea[name="prompt"]'));
  assert.is(doc.querySelector('input[name="max_tokens"]')?.getAttribute('value'), '');
  assert.is(doc.querySelector('label[for="field-prompt"]')?.textContent, 'Prompt');
  assert.not.ok(doc.querySelector('#playground-result'));
});

playground('a plain form post: the reply, what it cost, a link to its usage detail, and the new balance; the call has no key', async ({ t, browser, userId }) => {
  await grant(t, userId, 5_000_000);
  const posted = await browser.post('/playground', { model: 'gpt-4o-mini', prompt, max_tokens: '200' });
  assert.is(posted.status, 303, 'the call ran: a plain form goes on by redirect, so a refresh never sends it again');
  assert.match(posted.headers.get('location') ?? '', /^\/playground\?outcome=[\w-]{22}$/);
  const answer = await browser.follow(posted);
  assert.is(answer.status, 200);
  const doc = answer.doc;
  assert.ok(doc.querySelector('header.top'), 'a full page without htmx');
  const usage = await t.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
  assert.is(usage.api_key_id, null, 'playground calls have no key');
  assert.is(usage.user_id, userId);
  assert.is(usage.status, 'ok');
  const result = doc.querySelector('#playground-result')!;
  assert.is(result.querySelector('.reply')?.textContent, demoReplyText('gpt-4o-mini', [{ role: 'user', content: prompt }]));
  assert.is(result.querySelector('.cost')?.getAttribute('data-mc'), String(usage.charged_mc));
  assert.is(result.querySelector('.cost')?.textContent, `${(usage.charged_mc / 1000).toFixed(3)} credits`);
  assert.is(result.querySelector(`a[href="/credits/usage/${usage.request_id}"]`)?.textContent, 'See how it was charged');
  assert.match(result.textContent ?? '', new RegExp(`${usage.input_tokens} input tokens`));
  assert.is(doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), String(5_000_000 - usage.charged_mc));
  assert.is(doc.querySelector('textarea[name="prompt"]')?.textContent, prompt, 'the prompt is kept for the next try');
  assert.is(doc.querySelector('select[name="model"] option[selected]')?.getAttribute('value'), 'gpt-4o-mini');
  const hold = await t.db.selectFrom('holds').selectAll().executeTakeFirstOrThrow();
  assert.is(hold.api_key_id, null);
});

playground("a plain form's answer is kept for its redirect: a reload shows it again without a second call, to the user who asked only", async ({ t, browser, userId }) => {
  await grant(t, userId, 5_000_000);
  const posted = await browser.post('/playground', { model: 'gpt-4o-mini', prompt, max_tokens: '100' });
  const location = posted.headers.get('location')!;
  const first = await browser.get(location);
  const again = await browser.get(location);
  const reply = demoReplyText('gpt-4o-mini', [{ role: 'user', content: prompt }]);
  assert.is(first.doc.querySelector('#playground-result .reply')?.textContent, reply);
  assert.is(again.doc.querySelector('#playground-result .reply')?.textContent, reply, 'a reload shows the answer again');
  assert.is((await t.db.selectFrom('usage').select('id').execute()).length, 1, 'one call, however often the page is reloaded');
  const other = t.browser();
  await other.signUp('peeker@example.com');
  const peek = await other.get(location);
  assert.not.ok(peek.text.includes(reply), 'kept for the user who asked only');
  assert.match(peek.doc.querySelector('#playground-result')?.textContent ?? '', /no longer kept here/);
  const gone = await browser.get('/playground?outcome=unknown');
  assert.match(gone.doc.querySelector('#playground-result')?.textContent ?? '', /listed on the Credits tab/);
});

playground('with htmx: only the panel comes back, and the balance card is swapped out of band', async ({ t, browser, userId }) => {
  await grant(t, userId, 5_000_000);
  const answer = await browser.post('/playground', { model: 'gpt-4o', prompt, max_tokens: '' }, { htmx: true });
  assert.is(answer.status, 200);
  assert.is(answer.headers.get('vary'), 'HX-Request');
  const doc = answer.doc;
  assert.not.ok(doc.querySelector('header.top'), 'a partial');
  assert.ok(doc.querySelector('#playground-panel #playground-result .reply'));
  const card = doc.querySelector('#balance-card')!;
  assert.is(card.getAttribute('hx-swap-oob'), 'true');
  const usage = await t.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
  assert.is(card.querySelector('.balance-credits')?.getAttribute('data-mc'), String(5_000_000 - usage.charged_mc));
  assert.is(usage.model, 'gpt-4o');
  assert.is(doc.querySelectorAll('#balance-card').length, 1);
});

playground('out of credits: 402 with the call to action (a link to the packages), not an error page; nothing charged', async ({ t, browser, userId }) => {
  const rate = await rateOf(t.db, 'gpt-4o');
  const holdInput = holdInputTokens(await countChatInputTokens({ messages: [{ role: 'user', content: prompt }] }));
  await grant(t, userId, holdAmountMc(rate, 'exact', holdInput, 100));
  for (const htmx of [false, true]) {
    const answer = await browser.post('/playground', { model: 'gpt-4o', prompt, max_tokens: '1000' }, { htmx });
    assert.is(answer.status, 402);
    const doc = answer.doc;
    assert.is(Boolean(doc.querySelector('header.top')), !htmx);
    const result = doc.querySelector('#playground-result.out-of-credits')!;
    assert.ok(result, 'the out-of-credits panel');
    assert.is(result.querySelector('a[href="/credits#packages"]')?.textContent?.trim(), 'Buy credits');
    assert.match(result.textContent ?? '', /requested up to 1,000 output tokens; the available balance covers 100\./);
    assert.not.ok(doc.querySelector('.reply'));
    assert.is(doc.querySelector('textarea[name="prompt"]')?.textContent, prompt);
  }
  assert.is((await t.db.selectFrom('usage').select('id').execute()).length, 0);
  assert.is((await t.db.selectFrom('holds').select('id').execute()).length, 0);
});

playground('bad fields are marked (422) and nothing is sent or written', async ({ t, browser, userId }) => {
  await grant(t, userId, 5_000_000);
  const empty = await browser.post('/playground', { model: 'gpt-4o-mini', prompt: '   ', max_tokens: '' }, { htmx: true });
  assert.is(empty.status, 422);
  assert.is(empty.doc.querySelector('textarea[name="prompt"]')?.getAttribute('aria-invalid'), 'true');
  const badMax = await browser.post('/playground', { model: 'gpt-4o-mini', prompt, max_tokens: 'lots' });
  assert.is(badMax.status, 422);
  assert.is(badMax.doc.querySelector('input[name="max_tokens"]')?.getAttribute('aria-invalid'), 'true');
  assert.match(badMax.doc.querySelector('#field-max_tokens-error')?.textContent ?? '', /whole number from 1 to 16,384/);
  const badModel = await browser.post('/playground', { model: 'gpt-imaginary', prompt, max_tokens: '' });
  assert.is(badModel.status, 422);
  assert.is(badModel.doc.querySelector('select[name="model"]')?.getAttribute('aria-invalid'), 'true');
  assert.is((await t.db.selectFrom('holds').select('id').execute()).length, 0);
});

playground('a form from another site is refused (CSRF)', async ({ t, browser, userId }) => {
  await grant(t, userId, 5_000_000);
  const answer = await browser.post('/playground', { model: 'gpt-4o-mini', prompt, max_tokens: '' }, { headers: { origin: 'https://evil.example' } });
  assert.is(answer.status, 403);
  assert.is((await t.db.selectFrom('holds').select('id').execute()).length, 0);
});

playground.run();
