// The Credits tab through the DOM: every part's numbers and states, the htmx attributes behind the
// swaps, the partial-or-full rule, filters, keyset pages, the usage detail and tenant isolation.
import * as assert from 'uvu/assert';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold, voidHold } from '../src/ledger/holds.ts';
import { setRate } from '../src/pricing/rates.ts';
import { decideOutputLimit } from '../src/pricing/output-limit.ts';
import { holdInputTokens } from '../src/gateway/tokens.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { testApp } from './helpers/app.ts';
import { signedIn, signedInSuite } from './helpers/signed-in.ts';
import { rateOf } from './helpers/db.ts';
import { makeCall } from './helpers/usage.ts';

const page = signedInSuite('credits tab', 'user@example.com');

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

page('balance card: 2 decimals rounded down, USD rounded down, available and held by N calls, data-mc', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 1_234_567, reason: 'r' });
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  for (const requestId of ['h1', 'h2']) await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId, rate, roundingMode: 'exact', amountMc: 100_001, ttlMs: 60_000 });
  const { doc, status } = await browser.get('/credits');
  assert.is(status, 200);
  const card = doc.querySelector('#balance-card')!;
  assert.is(text(card.querySelector('.balance-credits')), '1,234.56');
  assert.is(card.querySelector('.balance-credits')!.getAttribute('data-mc'), '1234567');
  assert.is(text(card.querySelector('.balance-usd')), '≈ $1.23');
  assert.is(text(card.querySelector('.balance-detail')), 'available 1,034.565 · held 200.002 by 2 calls');
  assert.equal([...card.querySelectorAll('.balance-detail [data-mc]')].map((e) => e.getAttribute('data-mc')), ['1034565', '200002']);
  assert.is(card.querySelector('a.button')?.getAttribute('href'), '/credits#packages', 'Add credits goes to the packages');
});

page('low-balance banner under the user\'s threshold, with a link to buy; none at or above it or when off', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 499_999, reason: 'r' });
  const low = await browser.get('/credits');
  assert.is(text(low.doc.querySelector('#low-balance-banner')), 'Your balance is below 500 credits. Buy credits to keep your calls running.', 'the threshold in whole credits, as in the mail');
  assert.is(low.doc.querySelector('#low-balance-banner a')?.getAttribute('href'), '/credits#packages');
  await grantCredits(t.db, t.clock, { userId, amountMc: 1, reason: 'r' });
  assert.not.ok((await browser.get('/credits')).doc.querySelector('#low-balance-banner'), 'at the threshold: no banner');
  await t.db.updateTable('users').set({ low_balance_threshold_mc: 0 }).execute();
  assert.not.ok((await browser.get('/credits')).doc.querySelector('#low-balance-banner'));
});

page('out of credits: the same rule as the gateway (1-token prompt + 256 output tokens on the cheapest model)', async ({ t, browser, userId }) => {
  // gpt-4o-mini: 17 prompt tokens held (1 + margin 16) × 2,400 µc + 256 × 9,600 µc = 2,498,400 µc → 2,499 mc.
  await grantCredits(t.db, t.clock, { userId, amountMc: 2_498, reason: 'r' });
  const out = await browser.get('/credits');
  const alert = out.doc.querySelector('#balance-card .out-of-credits[role="alert"]');
  assert.match(text(alert), /out of credits/);
  assert.is(alert?.querySelector('a.button')?.getAttribute('href'), '/credits#packages');
  await grantCredits(t.db, t.clock, { userId, amountMc: 1, reason: 'r' });
  assert.not.ok((await browser.get('/credits')).doc.querySelector('.out-of-credits'), '2,499 mc affords the smallest call');
});

page('packages grid: prices, credits, bonus, $ per 1k, savings vs Starter, Best value, a buy form per card', async ({ browser }) => {
  const { doc } = await browser.get('/credits');
  const cards = [...doc.querySelectorAll('#packages .package')];
  assert.equal(cards.map((c) => c.getAttribute('data-package')), ['starter', 'basic', 'professional', 'enterprise']);
  const card = (id: string) => doc.querySelector(`#packages [data-package="${id}"]`)!;
  assert.is(text(card('starter').querySelector('.price')), '$10.00');
  assert.is(text(card('professional').querySelector('.package-credits')), '52,500 credits');
  assert.is(card('professional').querySelector('.package-credits')!.getAttribute('data-mc'), '52500000');
  assert.match(text(card('professional').querySelector('.package-bonus')), /\+2,500 bonus \(5%\)/);
  assert.match(text(card('enterprise').querySelector('.package-bonus')), /\+20,000 bonus \(10%\)/);
  assert.is(text(card('starter').querySelector('.per-1k')), '$1.000 per 1k credits');
  assert.is(text(card('professional').querySelector('.per-1k')), '$0.952 per 1k credits');
  assert.is(text(card('professional').querySelector('.savings')), 'Save 4.8% vs Starter');
  assert.is(text(card('enterprise').querySelector('.savings')), 'Save 9.1% vs Starter');
  assert.not.ok(card('starter').querySelector('.savings'), 'no "Save 0%"');
  // Basic is not a second Starter: a small bonus per dollar.
  assert.match(text(card('basic').querySelector('.package-bonus')), /\+400 bonus \(2%\)/);
  assert.ok(card('basic').querySelector('.savings'));
  assert.equal(cards.filter((c) => c.querySelector('.badge')).map((c) => c.getAttribute('data-package')), ['enterprise']);
  // One form for the cards: "Save the card" asked once, the button pressed naming its package.
  const form = doc.querySelector('#packages form')!;
  assert.is(doc.querySelectorAll('#packages form').length, 1);
  assert.is(form.getAttribute('action'), '/credits/checkout');
  assert.is(form.getAttribute('method'), 'post');
  assert.is(form.querySelectorAll('input[name="save_card"][type="checkbox"]').length, 1, 'Save the card once, not on each card');
  assert.match(text(form.querySelector('label.save-card')), /^Save the card for auto-recharge/);
  const buy = card('basic').querySelector('button[type="submit"]')!;
  assert.equal([buy.getAttribute('name'), buy.getAttribute('value'), text(buy)], ['package', 'basic', 'Buy Basic']);
  assert.is(buy.getAttribute('hx-disabled-elt'), '#buy-form button', 'every Buy button is disabled while one submits');
  assert.is(form.querySelectorAll('button[name="package"]').length, cards.length);
});

page('PAYMENTS=off: no buy buttons, a note that the operator grants credits', async () => {
  const t = await testApp({ PAYMENTS: 'off' });
  try {
    const { browser } = await signedIn(t, 'off@example.com');
    const { doc } = await browser.get('/credits');
    assert.is(doc.querySelectorAll('#packages form').length, 0);
    assert.match(text(doc.querySelector('#packages')), /granted by the operator/);
  } finally {
    await t.close();
  }
});

page('rate card: labels, credits per 1k, last updated from the rate version, and the charging note', async ({ t, browser }) => {
  t.clock.advance(3_600_000);
  await setRate(t.db, t.clock, { model: 'gpt-4o', inputMcPer1k: 25_000, outputMcPer1k: 90_000 });
  const { doc } = await browser.get('/credits');
  const rows = [...doc.querySelectorAll('#rate-card tbody tr')].map((tr) => [...tr.children].map((c) => text(c)));
  assert.equal(rows, [
    ['Advanced (gpt-4o)', '25.000 $25.00', '10.000 $10.00', '90.000 $90.00'],
    ['Eco (gpt-4o-mini)', '2.400 $2.40', '1.200 $1.20', '9.600 $9.60'],
    // Embedding models are priced per input token only.
    ['Search Plus (text-embedding-3-large)', '1.300 $1.30', '1.300 $1.30', '— (embeddings)'],
    ['Search (text-embedding-3-small)', '0.200 $0.20', '0.200 $0.20', '— (embeddings)'],
  ]);
  const note = text(doc.querySelector('#rate-card > p'));
  assert.match(note, /Last updated 2026-11-26 13:00 UTC/);
  assert.match(note, /We only charge based on actual token usage\./);
  assert.match(note, /1,000 credits = \$1\.00/);
});

page('estimator: tokenizer count at the live rate, USD, how many requests the balance covers; htmx gets the result only', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 100_000, reason: 'r' });
  const form = (await browser.get('/credits')).doc.querySelector('#estimator form')!;
  assert.match(form.getAttribute('hx-trigger') ?? '', /input changed delay:\d+ms/, 'debounced, no eval-based filter');
  assert.not.match(form.getAttribute('hx-trigger') ?? '', /\[/);
  // "Hello world" as one user message: 2 text tokens + 3 framing + 3 priming + 1 role = 9 tokens (checked against the tokenizer in tokens.test.ts).
  const partial = await browser.post('/credits/estimate', { text: 'Hello world', model: 'gpt-4o-mini', output_tokens: '1000' }, { htmx: true });
  assert.is(partial.status, 200);
  assert.not.ok(partial.doc.querySelector('header.top'));
  const cost = partial.doc.querySelector('#estimate-result [data-mc]')!;
  const mc = Number(cost.getAttribute('data-mc'));
  const inputTokens = Number(/for ([\d,]+) input/.exec(text(partial.doc.querySelector('#estimate-result')))![1]!.replace(/,/g, ''));
  assert.is(mc, Math.ceil((inputTokens * 2_400 + 1_000 * 9_600) / 1_000));
  assert.match(text(partial.doc.querySelector('#estimate-result')), new RegExp(`covers about ${Math.floor(100_000 / mc)} such requests`));
  assert.match(text(partial.doc.querySelector('#estimate-result')), /\(\$0\.0\d{3}\)/);
  const full = await browser.post('/credits/estimate', { text: 'Hello world', model: 'gpt-4o-mini', output_tokens: 'lots' });
  assert.is(full.status, 422);
  assert.is(full.doc.querySelector('#estimate-output')?.getAttribute('aria-invalid'), 'true');
  assert.is((full.doc.querySelector('#estimate-text') as HTMLTextAreaElement).value, 'Hello world', 'the plain form keeps what was typed');
});

page('estimator: never promises a request the gateway would refuse (the last one needs its hold, not its cost)', async ({ t, browser, userId }) => {
  const form = { text: 'Hello world', model: 'gpt-4o-mini', output_tokens: '1000' };
  const first = await browser.post('/credits/estimate', form, { htmx: true });
  const costMc = Number(first.doc.querySelector('#estimate-result [data-mc]')!.getAttribute('data-mc'));
  const inputTokens = Number(/for ([\d,]+) input/.exec(text(first.doc.querySelector('#estimate-result')))![1]!.replace(/,/g, ''));
  // Exactly ten costs: dividing would say 10, but after nine the balance left is one cost, short of the tenth's hold.
  await grantCredits(t.db, t.clock, { userId, amountMc: 10 * costMc, reason: 'r' });
  const estimate = await browser.post('/credits/estimate', form, { htmx: true });
  assert.match(text(estimate.doc.querySelector('#estimate-result')), /covers about 9 such requests/);
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const tenth = decideOutputLimit({ rates: rate, mode: 'exact', holdInputTokens: holdInputTokens(inputTokens), requestedOutputTokens: 1_000, modelMaxOutputTokens: rate.max_output_tokens, choices: 1, budgets: [{ remainingMc: costMc, cap: null }] });
  assert.is(tenth.ok, false, 'the gateway refuses the tenth');
  const ninth = decideOutputLimit({ rates: rate, mode: 'exact', holdInputTokens: holdInputTokens(inputTokens), requestedOutputTokens: 1_000, modelMaxOutputTokens: rate.max_output_tokens, choices: 1, budgets: [{ remainingMc: 2 * costMc, cap: null }] });
  assert.is(ninth.ok, true, 'and runs the ninth');
});

page('spend this month: total, by model and by key; last month is not counted', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 10_000_000, reason: 'r' });
  const { apiKey } = await createApiKey(t.db, t.clock, userId, 'backend');
  t.clock.set(Date.UTC(2026, 9, 31, 23, 59));
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 1_000, outputTokens: 1_000 }); // October
  t.clock.set(Date.UTC(2026, 10, 1, 0, 1));
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 10_000, outputTokens: 2_000, apiKeyId: apiKey.id }); // 360.000
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o-mini', inputTokens: 1_000, outputTokens: 1_000 }); // 12.000, playground
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o-mini', inputTokens: 750, outputTokens: 200, apiKeyId: apiKey.id }); // 3.720
  const { doc } = await browser.get('/credits');
  const spend = doc.querySelector('#spend')!;
  assert.is(spend.querySelector('.spend-total')!.getAttribute('data-mc'), '375720');
  assert.match(text(spend), /375\.720 credits \(≈ \$0\.3758\) in 2026-11 \(UTC\) over 3 calls/);
  const lines = [...spend.querySelectorAll('tr')].map((tr) => [text(tr.querySelector('th')), tr.querySelector('[data-mc]')!.getAttribute('data-mc')]);
  assert.equal(lines, [
    ['Advanced (gpt-4o)', '360000'],
    ['Eco (gpt-4o-mini)', '15720'],
    [`backend (${apiKey.prefix}…)`, '363720'],
    ['Playground', '12000'],
  ]);
});

page('empty usage: how to make the first call (API base URL, curl, playground and keys links)', async ({ browser }) => {
  const { doc } = await browser.get('/credits');
  const empty = doc.querySelector('#usage-results .first-call')!;
  assert.ok(empty);
  assert.match(text(empty.querySelector('pre')), /curl http:\/\/localhost:3000\/v1\/chat\/completions/);
  assert.ok(empty.querySelector('a[href="/playground"]'));
  assert.ok(empty.querySelector('a[href="/keys"]'));
});

page('usage table: columns, filters by model, key, playground and dates; Newer/Older by keyset', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 100_000_000, reason: 'r' });
  const { apiKey } = await createApiKey(t.db, t.clock, userId, 'ci');
  for (let i = 0; i < 30; i++) {
    await makeCall(t.db, t.clock, userId, { model: i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini', apiKeyId: i % 2 === 0 ? apiKey.id : null, advanceMs: 3_600_000, requestId: `req_${String(i).padStart(2, '0')}` });
  }
  const first = await browser.get('/credits');
  const headers = [...first.doc.querySelectorAll('#usage-results thead th')].map((th) => text(th));
  assert.equal(headers, ['Date (UTC)', 'Model', 'API key', 'Input', 'Output', 'Charged credits', 'Status', 'Request ID']);
  // Who made each call, and when to the second (calls an hour apart from 13:00:00 on 2026-11-26).
  const cells = (tr: Element | undefined) => [...(tr?.querySelectorAll('td') ?? [])].slice(0, 3).map((td) => text(td));
  const firstRows = [...first.doc.querySelectorAll('#usage-results tbody tr')];
  assert.equal(cells(firstRows[0]), ['2026-11-27 18:00:00', 'Eco (gpt-4o-mini)', 'Playground'], 'req_29: playground');
  assert.equal(cells(firstRows[1]), ['2026-11-27 17:00:00', 'Eco (gpt-4o-mini)', 'ci'], 'req_28: the key by name');
  const ids = (doc: Document) => [...doc.querySelectorAll('#usage-results tbody tr')].map((tr) => tr.getAttribute('data-request-id'));
  assert.equal(ids(first.doc).slice(0, 3), ['req_29', 'req_28', 'req_27'], 'newest first');
  assert.is(ids(first.doc).length, 25);
  assert.is(first.doc.querySelector('#usage-results .pager-off')?.textContent?.trim(), '← Newer', 'no newer page on the first');
  const older = first.doc.querySelector('#usage-results a[rel="next"]')!;
  assert.is(older.getAttribute('hx-target'), '#usage-results');
  assert.is(older.getAttribute('hx-push-url'), 'true');
  const page2 = await browser.get(older.getAttribute('href')!, { htmx: true });
  assert.not.ok(page2.doc.querySelector('header.top'), 'htmx gets the table only');
  assert.equal(ids(page2.doc), ['req_04', 'req_03', 'req_02', 'req_01', 'req_00']);
  const newer = page2.doc.querySelector('a[rel="prev"]')!.getAttribute('href')!;
  const back = await browser.get(newer);
  assert.ok(back.doc.querySelector('header.top'), 'a pushed URL renders the full page');
  assert.equal(ids(back.doc).slice(0, 2), ['req_29', 'req_28']);
  assert.is(ids(back.doc).length, 25);

  const byModel = await browser.get('/credits/usage?model=gpt-4o', { htmx: true });
  assert.equal(ids(byModel.doc), ['req_27', 'req_24', 'req_21', 'req_18', 'req_15', 'req_12', 'req_09', 'req_06', 'req_03', 'req_00']);
  assert.match(text(byModel.doc.querySelector('tbody tr')), /Advanced \(gpt-4o\)/);
  const byKey = await browser.get(`/credits/usage?key=${apiKey.id}&model=gpt-4o-mini`, { htmx: true });
  assert.equal(ids(byKey.doc), ['req_28', 'req_26', 'req_22', 'req_20', 'req_16', 'req_14', 'req_10', 'req_08', 'req_04', 'req_02']);
  const playground = await browser.get('/credits/usage?key=playground&model=gpt-4o', { htmx: true });
  assert.equal(ids(playground.doc), ['req_27', 'req_21', 'req_15', 'req_09', 'req_03']);
  // Calls are an hour apart from 13:00 on 2026-11-26 (req_00): 2026-11-27 starts with req_11.
  const day = await browser.get('/credits/usage?from=2026-11-27&to=2026-11-27', { htmx: true });
  assert.is(ids(day.doc).length, 19);
  assert.is(ids(day.doc)[0], 'req_29');
  assert.is(ids(day.doc).at(-1), 'req_11');
  const before = await browser.get('/credits/usage?to=2026-11-26', { htmx: true });
  assert.equal(ids(before.doc), ['req_10', 'req_09', 'req_08', 'req_07', 'req_06', 'req_05', 'req_04', 'req_03', 'req_02', 'req_01', 'req_00'], 'to is inclusive');
  assert.is(day.doc.querySelector('.csv-link')?.getAttribute('href'), '/credits/usage.csv?from=2026-11-27&to=2026-11-27', 'the export carries the filters');
  const form = first.doc.querySelector('#usage-filters')!;
  assert.is(form.getAttribute('hx-target'), '#usage-results');
  assert.is(form.getAttribute('hx-push-url'), 'true');
  assert.is(form.getAttribute('action'), '/credits/usage#usage', 'a plain GET form without JavaScript, landing at the table');
});

page('the partial-or-full rule: htmx gets a partial, a history restore and a plain request the full page', async ({ t, browser }) => {
  const partial = await browser.get('/credits/usage', { htmx: true });
  assert.is(partial.headers.get('vary'), 'HX-Request');
  assert.not.ok(partial.doc.querySelector('html header.top'));
  assert.ok(partial.doc.querySelector('#usage-results'));
  const restore = await browser.get('/credits/usage', { htmx: true, headers: { 'HX-History-Restore-Request': 'true' } });
  assert.ok(restore.doc.querySelector('header.top'), 'history restore → full page');
  assert.ok(restore.doc.querySelector('#balance-card'));
  const plain = await browser.get('/credits/ledger?type=grant');
  assert.ok(plain.doc.querySelector('#balance-card'));
  assert.is(plain.doc.querySelector('#ledger-type option[selected]')?.getAttribute('value'), 'grant');
  const balance = await browser.get('/credits/balance', { htmx: true });
  assert.is(balance.doc.body.firstElementChild?.id, 'balance-card', 'each part at its own URL');
  // Every part of the tab at its own URL: the part alone for htmx, inside the site's frame otherwise.
  for (const [path, id] of [['/credits/balance', 'balance-card'], ['/credits/packages', 'packages'], ['/credits/rates', 'rate-card'], ['/credits/spend', 'spend']]) {
    const part = await browser.get(path!, { htmx: true });
    assert.is(part.status, 200, path);
    assert.is(part.doc.body.firstElementChild?.id, id, `${path} alone for htmx`);
    assert.not.ok(part.doc.querySelector('header.top'), path);
    const full = await browser.get(path!);
    assert.ok(full.doc.querySelector('header.top'), `${path} in the frame without htmx`);
    assert.ok(full.doc.querySelector(`#${id}`), path);
  }
  const active = await t.db.selectFrom('packages').select('id').where('active', '=', 1).execute();
  const grid = (await browser.get('/credits/packages', { htmx: true })).doc;
  assert.is(grid.querySelectorAll('#packages form[action="/credits/checkout"] button[name="package"]').length, active.length, 'each package with its Buy button');
});

page('a bad filter: 400 with the field marked; htmx gets the message and the marked form out of band', async ({ browser }) => {
  const full = await browser.get('/credits/usage?model=gpt-5&from=2026-13-01');
  assert.is(full.status, 400);
  assert.is(full.doc.querySelector('#usage-model')?.getAttribute('aria-invalid'), 'true');
  assert.is(full.doc.querySelector('#usage-from')?.getAttribute('aria-invalid'), 'true');
  assert.match(text(full.doc.querySelector('#usage-results [role="alert"]')), /model must be one of gpt-4o, gpt-4o-mini, text-embedding-3-large, text-embedding-3-small, got "gpt-5"/);
  const partial = await browser.get('/credits/ledger?type=bonus', { htmx: true });
  assert.is(partial.status, 400);
  assert.is(partial.doc.querySelector('#ledger-filters')?.getAttribute('hx-swap-oob'), 'true');
  assert.is(partial.doc.querySelector('#ledger-type')?.getAttribute('aria-invalid'), 'true');
  const tampered = await browser.get('/credits/usage?cursor=bzEyMy40NQ.AAAAAAAAAAAAAAAA');
  assert.is(tampered.status, 400);
  assert.match(text(tampered.doc.querySelector('#usage-results')), /cursor is not valid/);
});

page("a table's URL lands at its section; its rows say their filters; a call's 'Back' returns to the table page it came from, and only to a table", async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 100_000_000, reason: 'r' });
  for (let i = 0; i < 30; i++) await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', advanceMs: 60_000, requestId: `req_back${String(i).padStart(2, '0')}` });
  const first = await browser.get('/credits/usage?model=gpt-4o&from=', { htmx: true });
  assert.is(first.headers.get('hx-push-url'), '/credits/usage?model=gpt-4o#usage', 'the canonical URL, with the anchor a reload lands at');
  assert.is(first.doc.querySelector('#usage-results')?.getAttribute('data-filters'), 'model=gpt-4o', 'the rows say which filters made them');
  const older = first.doc.querySelector('#usage-results a[rel="next"]')!.getAttribute('href')!;
  assert.match(older, /^\/credits\/usage\?model=gpt-4o&cursor=[^#]+#usage$/);
  const page2 = await browser.get(older.replace('#usage', ''), { htmx: true });
  const query = page2.doc.querySelector('#usage-results')!.getAttribute('data-filters')!;
  assert.match(query, /^model=gpt-4o&cursor=/);
  const link = page2.doc.querySelector('#usage-results tbody tr a')!.getAttribute('href')!;
  assert.is(link, `/credits/usage/req_back04?back=${encodeURIComponent(`/credits/usage?${query}`)}`);
  const detail = await browser.get(link);
  assert.is(detail.status, 200);
  const back = detail.doc.querySelector('.usage-detail .back-link')!;
  assert.is(back.getAttribute('href'), `/credits/usage?${query}#usage`, 'back to the same filters and page');
  assert.is(text(back), '← Back to usage');
  const fromLedger = await browser.get(`/credits/usage/req_back04?back=${encodeURIComponent('/credits/ledger?type=usage&from=2026-01-01')}`);
  assert.is(fromLedger.doc.querySelector('.back-link')?.getAttribute('href'), '/credits/ledger?type=usage&from=2026-01-01#ledger');
  assert.is(text(fromLedger.doc.querySelector('.back-link')), '← Back to the ledger');
  // Only the table's own parameters, and only to a table on this site.
  const extra = await browser.get(`/credits/usage/req_back04?back=${encodeURIComponent('/credits/usage?model=gpt-4o&next=https://evil.example&key=<b>')}`);
  assert.is(extra.doc.querySelector('.back-link')?.getAttribute('href'), '/credits/usage?model=gpt-4o&key=%3Cb%3E#usage');
  for (const hostile of ['https://evil.example/credits/usage', '//evil.example/credits/usage', '/credits/usage/../../keys', '/keys', '/credits/usagex', 'javascript:alert(1)', `/credits/usage?model=${'a'.repeat(3_000)}`]) {
    const answer = await browser.get(`/credits/usage/req_back04?back=${encodeURIComponent(hostile)}`);
    assert.is(answer.doc.querySelector('.back-link')?.getAttribute('href'), '/credits/usage#usage', hostile);
  }
  const form = first.doc.querySelector('form[data-results]') ?? (await browser.get('/credits')).doc.querySelector('#usage-filters')!;
  assert.is(form.getAttribute('autocomplete'), 'off', 'the browser does not refill the controls from memory');
  assert.match(form.getAttribute('hx-trigger') ?? '', /^change delay:\d+ms, submit$/, 'a change waits for the next (arrow keys, digits of a date)');
  assert.is(form.getAttribute('hx-sync'), 'this:queue last', 'one request at a time, then only the newest: answers arrive in order');
});

page('ledger table: types, amounts, balance after; the newest row matches the balance card; usage links to its call', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 50_000, reason: 'welcome' });
  t.clock.advance(1_000);
  await makeCall(t.db, t.clock, userId, { inputTokens: 750, outputTokens: 200, requestId: 'req_ledger' });
  const { doc } = await browser.get('/credits');
  const rows = [...doc.querySelectorAll('#ledger-results tbody tr')].map((tr) => [...tr.children].slice(1).map((c) => text(c)));
  assert.equal(rows, [
    ['Usage', '-3.720', '46.280', 'req_ledger'],
    ['Grant', '+50.000', '50.000', 'welcome'],
  ]);
  const newest = doc.querySelector('#ledger-results tbody tr .balance-after')!.getAttribute('data-mc');
  assert.is(newest, doc.querySelector('#balance-card .balance-credits')!.getAttribute('data-mc'));
  assert.is(doc.querySelector('#ledger-results tbody tr a')?.getAttribute('href'), '/credits/usage/req_ledger?back=%2Fcredits%2Fledger', 'the call leads back to the ledger');
  const grants = await browser.get('/credits/ledger?type=usage', { htmx: true });
  assert.is(grants.doc.querySelectorAll('tbody tr').length, 1);
});

page('usage detail: the rates applied (not today\'s), the formula with numbers, hold vs charge; another user gets 404', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 1_000_000, reason: 'r' });
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 1_234, cachedInputTokens: 234, outputTokens: 567, requestId: 'req_detail' });
  await setRate(t.db, t.clock, { model: 'gpt-4o', inputMcPer1k: 1, outputMcPer1k: 1 });
  const { doc, status } = await browser.get('/credits/usage/req_detail');
  assert.is(status, 200);
  const rates = [...doc.querySelectorAll('.usage-detail table td')].map((td) => td.getAttribute('data-mc'));
  assert.equal(rates, ['20000', '10000', '80000'], 'the rates of the call, not the new card');
  // (1,234 − 234)·20,000 + 234·10,000 + 567·80,000 = 67,700,000 µc = 67.700 credits.
  assert.match(text(doc.querySelector('.formula')), /\(1,234 input − 234 cached\) × 20,000 \+ 234 cached × 10,000 \+ 567 output × 80,000 = 67,700,000 microcredits/);
  assert.is(doc.querySelector('.formula strong')?.getAttribute('data-mc'), '67700');
  assert.match(text(doc.querySelector('.usage-detail')), /Held while the call ran ?1\.000 credits/);
  assert.match(text(doc.querySelector('.usage-detail')), /chatcmpl-test/);
  const other = await signedIn(t, 'other@example.com');
  assert.is((await other.browser.get('/credits/usage/req_detail')).status, 404);
});

page('usage detail of a call the upstream failed: not charged, no formula', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 100_000, reason: 'r' });
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const hold = await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId: 'req_failed', rate, roundingMode: 'exact', amountMc: 5_000, ttlMs: 60_000 });
  await voidHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 120, cachedInputTokens: 0, outputTokens: 0 }, status: 'upstream_error', estimated: true, latencyMs: 9 });
  const { doc, status } = await browser.get('/credits/usage/req_failed');
  assert.is(status, 200);
  assert.match(text(doc.querySelector('.usage-detail .notice')), /Not charged: the upstream failed/);
  assert.not.ok(doc.querySelector('.formula'));
  assert.match(text(doc.querySelector('.usage-detail')), /Charged ?0\.000 credits/);
});

page.run();
