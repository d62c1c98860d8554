// The playground and the cost estimator take a prompt as large as the API does (4 MB, posted as
// multipart/form-data); past it they say so in words naming the limit, with and without htmx.
// Every other form keeps 64 KB.
import * as assert from 'uvu/assert';
import { grantCredits } from '../src/ledger/credits.ts';
import { countChatInputTokens } from '../src/gateway/tokens.ts';
import { assertBooksClean } from './helpers/gateway.ts';
import { signedInSuite } from './helpers/signed-in.ts';

const forms = signedInSuite('prompt forms', 'writer@example.com', { afterEach: ({ t }) => assertBooksClean(t) });
forms.before.each(async ({ t, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 5_000_000, reason: 'test' });
});

const text = (element: Element | null | undefined) => (element?.textContent ?? '').replace(/\s+/g, ' ').trim();
/** About 100 KB: past the 64 KB every other form allows. */
const LONG_PROMPT = 'The ledger keeps every entry, and the hold reserves the worst case. '.repeat(1_500);
/** Past the API's 4 MB. */
const HUGE_PROMPT = 'x'.repeat(4 * 1024 * 1024 + 1);

forms('both prompt forms post multipart/form-data (their text is sent as is), with and without htmx', async ({ browser }) => {
  for (const [path, selector] of [['/playground', '#playground-panel form'], ['/credits', '#estimator form']] as const) {
    const form = (await browser.get(path)).doc.querySelector(selector)!;
    assert.is(form.getAttribute('enctype'), 'multipart/form-data', path);
  }
  // htmx swaps a 413 so the prompt forms' words show; the layout's config says so.
  const config = JSON.parse((await browser.get('/playground')).doc.querySelector('meta[name="htmx-config"]')!.getAttribute('content')!) as { responseHandling: { code: string; swap: boolean }[] };
  assert.ok(config.responseHandling.some((rule) => rule.code === '413' && rule.swap));
});

forms('a 100 KB prompt in the playground is sent and charged, as a plain form and with htmx', async ({ t, browser, userId }) => {
  assert.ok(LONG_PROMPT.length > 100_000);
  const inputTokens = (await countChatInputTokens({ messages: [{ role: 'user', content: LONG_PROMPT }] }));
  for (const htmx of [false, true]) {
    const posted = await browser.postMultipart('/playground', { model: 'gpt-4o-mini', prompt: LONG_PROMPT, max_tokens: '50' }, { htmx });
    // A plain form goes on by 303 to the page with the answer (a refresh sends nothing again).
    const answer = htmx ? posted : await browser.follow(posted);
    assert.is(answer.status, 200, text(answer.doc.body).slice(0, 300));
    assert.is(Boolean(answer.doc.querySelector('header.top')), !htmx);
    assert.ok(answer.doc.querySelector('#playground-result .reply'), 'the reply is shown');
    assert.match(text(answer.doc.querySelector('#playground-result')), new RegExp(`${inputTokens.toLocaleString('en-US')} input tokens`));
  }
  // The URL-encoded post of a plain form without the enctype works the same.
  const encoded = await browser.post('/playground', { model: 'gpt-4o-mini', prompt: LONG_PROMPT, max_tokens: '50' });
  assert.is(encoded.status, 303);
  const rows = await t.db.selectFrom('usage').select(['input_tokens', 'status']).where('user_id', '=', userId).execute();
  assert.equal(rows, Array(3).fill({ input_tokens: inputTokens, status: 'ok' }));
});

forms('past 4 MB the playground says so, naming the limit: in place of the result under htmx (the form kept), on the page otherwise; nothing charged', async ({ t, browser, userId }) => {
  const partial = await browser.postMultipart('/playground', { model: 'gpt-4o-mini', prompt: HUGE_PROMPT, max_tokens: '' }, { htmx: true });
  assert.is(partial.status, 413);
  assert.is(partial.headers.get('connection'), 'close', 'the unread rest of the body ends the connection');
  assert.is(partial.headers.get('hx-retarget'), '#playground-outcome');
  assert.is(partial.headers.get('hx-reswap'), 'outerHTML');
  assert.ok(partial.doc.querySelector('#playground-outcome'), 'it replaces the outcome, not the form');
  assert.not.ok(partial.doc.querySelector('form'));
  assert.match(text(partial.doc.querySelector('#playground-result')), /The prompt is too large: the playground takes at most 4 MB, as the API does\. Nothing was sent or charged\./);

  const full = await browser.postMultipart('/playground', { model: 'gpt-4o-mini', prompt: HUGE_PROMPT, max_tokens: '' });
  assert.is(full.status, 413);
  assert.ok(full.doc.querySelector('header.top'), 'a page');
  assert.ok(full.doc.querySelector('#playground-panel form'), 'with the form to try again');
  assert.match(text(full.doc.querySelector('#playground-result')), /at most 4 MB, as the API does/);

  assert.is((await t.db.selectFrom('holds').select('id').where('user_id', '=', userId).execute()).length, 0);
  assert.is((await t.db.selectFrom('usage').select('id').where('user_id', '=', userId).execute()).length, 0);
});

forms('the estimator counts a 100 KB prompt, and past 4 MB says so naming the limit, with and without htmx', async ({ browser }) => {
  const inputTokens = (await countChatInputTokens({ messages: [{ role: 'user', content: LONG_PROMPT }] }));
  for (const htmx of [false, true]) {
    const answer = await browser.postMultipart('/credits/estimate', { text: LONG_PROMPT, model: 'gpt-4o-mini', output_tokens: '100' }, { htmx });
    assert.is(answer.status, 200);
    assert.match(text(answer.doc.querySelector('#estimate-result')), new RegExp(`for ${inputTokens.toLocaleString('en-US')} input and 100 output tokens`));
  }
  for (const htmx of [false, true]) {
    const answer = await browser.postMultipart('/credits/estimate', { text: HUGE_PROMPT, model: 'gpt-4o-mini', output_tokens: '' }, { htmx });
    assert.is(answer.status, 413);
    assert.is(Boolean(answer.doc.querySelector('header.top')), !htmx);
    // Under htmx the estimate's place is swapped (the form's own target), leaving the text typed in the form alone.
    assert.is(Boolean(answer.doc.querySelector('#estimator form')), !htmx);
    assert.match(text(answer.doc.querySelector('#estimate-result')), /The prompt is too large to estimate: at most 4 MB, as the API takes\./);
  }
});

forms('a prompt just under 4 MB is taken by both forms: estimated, and sent and charged in the playground', async ({ t, browser, userId }) => {
  // 4 MB less room for the other fields and the multipart framing.
  const nearLimit = 'x'.repeat(4 * 1024 * 1024 - 4_096);
  // Held at its bytes (an unbroken run): about 4.2M tokens at 2.4 credits per 1k, past the 5,000 credits granted.
  await grantCredits(t.db, t.clock, { userId, amountMc: 20_000_000, reason: 'test' });
  const estimate = await browser.postMultipart('/credits/estimate', { text: nearLimit, model: 'gpt-4o-mini', output_tokens: '1' }, { htmx: true });
  assert.is(estimate.status, 200, text(estimate.doc.body).slice(0, 300));
  assert.match(text(estimate.doc.querySelector('#estimate-result')), /About [\d.,]+ credits/);
  const call = await browser.postMultipart('/playground', { model: 'gpt-4o-mini', prompt: nearLimit, max_tokens: '1' }, { htmx: true });
  assert.is(call.status, 200, text(call.doc.body).slice(0, 300));
  assert.ok(call.doc.querySelector('#playground-result .reply'), 'the reply is shown');
  const rows = await t.db.selectFrom('usage').select(['status']).where('user_id', '=', userId).execute();
  assert.equal(rows, [{ status: 'ok' }]);
});

forms('every other form keeps 64 KB: a plain line naming it, and htmx is told not to swap it over the form', async ({ t, browser }) => {
  const big = 'a'.repeat(70 * 1024);
  const plain = await browser.post('/account/password', { current_password: big, new_password: big });
  assert.is(plain.status, 413);
  assert.is(plain.text, 'The request body is too large (at most 64 KB).');
  assert.is(plain.headers.get('connection'), 'close');
  const htmx = await browser.post('/settings/billing', { low_balance_threshold: big }, { htmx: true });
  assert.is(htmx.status, 413);
  assert.is(htmx.headers.get('hx-reswap'), 'none');
  // The prompt forms' larger limit is theirs alone: a path beside them keeps the form limit.
  const beside = await t.fetch('/playground/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin }, body: `prompt=${big}` });
  assert.is(beside.status, 413);
});

forms.run();
