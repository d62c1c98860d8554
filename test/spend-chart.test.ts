// Spend over time on the Credits tab through the DOM: the chart's bars and its table equal the sums of
// the usage rows they stand for (by model, by key, per day) after calls on several days, for each
// preset and a custom range; a bad range is a 400 with its field marked (full page and htmx); the
// balance card's run-out line and its arithmetic; the keys page's spend this month per key equals
// that key's usage rows of the month, against its limit.
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { createApiKey, setKeyLimits } from '../src/keys/keys.ts';
import { DAY_MS } from '../src/month.ts';
import { runOutDays } from '../src/usage/run-out.ts';
import { currentRates } from '../src/pricing/rates.ts';
import { modelLabels } from '../src/credits/page-data.ts';
import type { Browser, TestApp } from './helpers/app.ts';
import { sessionCookie, signedInSuite } from './helpers/signed-in.ts';
import { makeCall } from './helpers/usage.ts';

const tests = signedInSuite('spend over time', 'chart@example.com', { afterEach: async ({ t }) => assert.equal(await audit(t.db), []) });

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const mcOf = (el: Element) => Number(el.getAttribute('data-mc'));

/**
 * Calls by two keys and the playground on two models: one on 2026-11-26 (START), then on 2026-12-31,
 * 2027-01-01, 2027-01-02 and 2027-01-05 (today at the end), so the presets each take a different part.
 */
/** A session started now: weeks on the test clock outlive the one signed up with. */
async function freshSession(t: TestApp, browser: Browser, userId: number) {
  const [name, value] = (await sessionCookie(t, userId)).split('=');
  browser.cookies.set(name!, value!);
}

async function history(t: TestApp, browser: Browser, userId: number) {
  await grantCredits(t.db, t.clock, { userId, amountMc: 50_000_000, reason: 'r' });
  const { apiKey: backend } = await createApiKey(t.db, t.clock, userId, 'backend');
  const { apiKey: batch } = await createApiKey(t.db, t.clock, userId, 'batch jobs');
  const call = (model: string, apiKeyId: number | null, inputTokens: number) => makeCall(t.db, t.clock, userId, { model, apiKeyId, inputTokens, outputTokens: inputTokens * 2 });
  await call('gpt-4o', backend.id, 700);
  t.clock.advance(35 * DAY_MS); // 2026-12-31
  await call('gpt-4o-mini', backend.id, 1_000);
  await call('gpt-4o-mini', backend.id, 1_500);
  await call('gpt-4o', batch.id, 300);
  await call('gpt-4o-mini', null, 40);
  t.clock.advance(DAY_MS); // 2027-01-01
  await call('gpt-4o', backend.id, 2_000);
  await call('gpt-4o-mini', batch.id, 5_000);
  t.clock.advance(DAY_MS); // 2027-01-02
  await call('gpt-4o-mini', backend.id, 123);
  t.clock.advance(3 * DAY_MS); // 2027-01-05
  await call('gpt-4o', null, 77);
  await call('gpt-4o-mini', backend.id, 900);
  await call('gpt-4o-mini', backend.id, 901);
  await freshSession(t, browser, userId);
  return { backend, batch };
}

/** The usage rows themselves (the test may scan them; the page may not), as day, model, key and charge. */
async function usageRows(t: TestApp, userId: number) {
  const rows = await t.db.selectFrom('usage').select(['created_at_ms', 'model', 'api_key_id', 'charged_mc']).where('user_id', '=', userId).execute();
  return rows.map((r) => ({ day: new Date(Number(r.created_at_ms)).toISOString().slice(0, 10), model: r.model, apiKeyId: r.api_key_id === null ? null : Number(r.api_key_id), mc: Number(r.charged_mc) }));
}

type Row = Awaited<ReturnType<typeof usageRows>>[number];
const sum = (rows: Row[]) => rows.reduce((total, r) => total + r.mc, 0);
const inRange = (rows: Row[], from: string, to: string) => rows.filter((r) => r.day >= from && r.day <= to);

/** What the chart shows: per day and series label, from the bars, and from the table's cells. */
function chartNumbers(doc: Document) {
  const labels = [...doc.querySelectorAll('#spend-chart-results .chart-legend li')].map((li) => text(li).replace(/: [\d,.]+$/, ''));
  // Two drawings of the same numbers, the wide one and the phone's (the stylesheet shows one): each read alone.
  const barsOf = (drawing: string) => {
    const bars = new Map<string, number>();
    for (const bar of doc.querySelectorAll(`#spend-chart-results ${drawing} rect.bar`)) {
      const id = `${bar.getAttribute('data-day')}|${labels[Number(bar.getAttribute('data-series'))]}`;
      bars.set(id, (bars.get(id) ?? 0) + mcOf(bar));
    }
    return bars;
  };
  const bars = barsOf('svg.spend-chart');
  const phoneBars = barsOf('svg.spend-chart-phone');
  const cells = new Map<string, number>();
  for (const row of doc.querySelectorAll('#spend-chart-results tbody tr')) {
    for (const cell of row.querySelectorAll('td[data-series]')) {
      if (mcOf(cell) !== 0) cells.set(`${row.getAttribute('data-day')}|${labels[Number(cell.getAttribute('data-series'))]}`, mcOf(cell));
    }
  }
  const dayTotals = Object.fromEntries([...doc.querySelectorAll('#spend-chart-results tbody tr')].map((row) => [row.getAttribute('data-day'), mcOf(row.querySelector('.day-total')!)]));
  const seriesTotals = Object.fromEntries([...doc.querySelectorAll('#spend-chart-results tfoot td[data-series]')].map((cell) => [labels[Number(cell.getAttribute('data-series'))], mcOf(cell)]));
  const total = mcOf(doc.querySelector('#spend-chart-results tfoot .range-total td[data-label="Total credits"]')!);
  return { labels, bars, phoneBars, cells, dayTotals, seriesTotals, total, headline: mcOf(doc.querySelector('#spend-chart-results .range-total-credits')!) };
}

/** The sums the chart must show, from the rows, keyed as chartNumbers keys them. */
function expected(rows: Row[], labelOf: (r: Row) => string) {
  const cells = new Map<string, number>();
  const seriesTotals: Record<string, number> = {};
  const dayTotals: Record<string, number> = {};
  for (const r of rows) {
    cells.set(`${r.day}|${labelOf(r)}`, (cells.get(`${r.day}|${labelOf(r)}`) ?? 0) + r.mc);
    seriesTotals[labelOf(r)] = (seriesTotals[labelOf(r)] ?? 0) + r.mc;
    dayTotals[r.day] = (dayTotals[r.day] ?? 0) + r.mc;
  }
  return { cells, seriesTotals, dayTotals, total: sum(rows) };
}

const sorted = (map: Map<string, number>) => [...map.entries()].sort();

tests('the default chart (last 30 days by model) equals the usage rows of those days, bar by bar, cell by cell and in total', async ({ t, browser, userId }) => {
  await history(t, browser, userId);
  const rows = inRange(await usageRows(t, userId), '2026-12-07', '2027-01-05');
  assert.is(rows.length, 10, 'the call of 2026-11-26 is older than 30 days');
  const { doc, status } = await browser.get('/credits');
  assert.is(status, 200);
  assert.match(text(doc.querySelector('#spend-chart-results .chart-range')), /from 2026-12-07 to 2027-01-05 \(UTC\)/);
  const shown = chartNumbers(doc);
  const labels = modelLabels(await currentRates(t.db));
  const want = expected(rows, (r) => labels.get(r.model)!);
  assert.equal(sorted(shown.bars), sorted(want.cells), 'the bars');
  assert.equal(sorted(shown.phoneBars), sorted(want.cells), "the phone's bars, the same numbers");
  assert.equal(sorted(shown.cells), sorted(want.cells), 'the table');
  assert.equal(shown.seriesTotals, want.seriesTotals);
  assert.equal(shown.dayTotals, want.dayTotals, 'only days with calls are rows');
  assert.is(shown.total, want.total);
  assert.is(shown.headline, want.total);
  assert.is(doc.querySelectorAll('#spend-chart-results svg.spend-chart rect.bar').length, want.cells.size, 'one bar segment per day and model with spend');
  assert.is(doc.querySelectorAll('#spend-chart-results svg.spend-chart-phone rect.bar').length, want.cells.size, 'and in the phone drawing');
  // The phone's drawing is nearly square (the wide one is about 3:1), so bars are read at their size on a narrow screen.
  const [, , phoneWidth, phoneHeight] = doc.querySelector('svg.spend-chart-phone')!.getAttribute('viewBox')!.split(' ').map(Number);
  assert.ok(phoneHeight! >= phoneWidth! * 0.8, `phone viewBox ${phoneWidth}×${phoneHeight}`);
  assert.is(doc.querySelector('svg.spend-chart-phone')!.getAttribute('role'), 'img');
  // The SVG carries no inline style (CSP) and says what it is.
  assert.not.ok(doc.querySelector('#spend-chart [style]'));
  assert.is(doc.querySelector('svg.spend-chart')!.getAttribute('role'), 'img');
  assert.match(text(doc.querySelector('svg.spend-chart > title')), /Daily spend from 2026-12-07 to 2027-01-05/);
});

tests('grouped by key (the playground apart) and by day; each preset and a custom range take their own days', async ({ t, browser, userId }) => {
  await history(t, browser, userId);
  const all = await usageRows(t, userId);
  const keyLabels = new Map<number | null, string>([[null, 'Playground']]);
  for (const key of await t.db.selectFrom('api_keys').select(['id', 'name', 'prefix']).where('user_id', '=', userId).execute()) keyLabels.set(Number(key.id), `${key.name} (${key.prefix}…)`);

  const byKey = chartNumbers((await browser.get('/credits/chart?group=key')).doc);
  const wantByKey = expected(inRange(all, '2026-12-07', '2027-01-05'), (r) => keyLabels.get(r.apiKeyId)!);
  assert.equal(sorted(byKey.bars), sorted(wantByKey.cells));
  assert.equal(sorted(byKey.cells), sorted(wantByKey.cells));
  assert.equal(byKey.seriesTotals, wantByKey.seriesTotals);
  assert.equal(Object.keys(byKey.seriesTotals).sort(), ['Playground', ...[...keyLabels.values()].filter((l) => l !== 'Playground')].sort());

  const cases: [string, string, string][] = [
    ['range=last_7&group=day', '2026-12-30', '2027-01-05'],
    ['range=this_month&group=day', '2027-01-01', '2027-01-05'],
    ['range=last_month&group=day', '2026-12-01', '2026-12-31'],
    ['range=last_30&group=day', '2026-12-07', '2027-01-05'],
    ['range=custom&from=2026-11-01&to=2026-11-30&group=day', '2026-11-01', '2026-11-30'],
    ['from=2026-11-26&to=2027-01-01&group=day', '2026-11-26', '2027-01-01'],
  ];
  for (const [query, from, to] of cases) {
    const { doc, status } = await browser.get(`/credits/chart?${query}`);
    assert.is(status, 200, query);
    assert.match(text(doc.querySelector('#spend-chart-results .chart-range')), new RegExp(`from ${from} to ${to} \\(UTC\\)`), query);
    const shown = chartNumbers(doc);
    const want = expected(inRange(all, from, to), () => 'Spend');
    assert.equal(shown.dayTotals, want.dayTotals, query);
    assert.is(shown.total, want.total, query);
    assert.is(shown.headline, want.total, query);
    assert.equal([...doc.querySelectorAll('#spend-chart-results thead th')].map(text), ['Day (UTC)', 'Total credits', 'Total USD', 'Calls'], `${query}: no per-series columns by day`);
    assert.is(doc.querySelector(`#chart-range option[selected]`)?.getAttribute('value'), new URLSearchParams(query).get('range') ?? 'custom', `${query}: the form shows the range`);
  }
  // last_month's total in USD beside credits (1,000 credits = $1).
  const lastMonth = await browser.get('/credits/chart?range=last_month');
  const total = sum(inRange(all, '2026-12-01', '2026-12-31'));
  assert.is(text(lastMonth.doc.querySelector('.range-total td[data-label="Total USD"]')), `$${(Math.ceil(total / 100) / 10_000).toFixed(4)}`);

  // Under htmx: the results alone, the canonical URL pushed (a preset keeps no dates).
  const partial = await browser.get('/credits/chart?range=last_7&from=2026-01-01&group=key', { htmx: true });
  assert.is(partial.status, 200);
  assert.is(partial.headers.get('hx-push-url'), '/credits/chart?range=last_7&group=key#spend-chart');
  assert.ok(partial.doc.querySelector('#spend-chart-results'));
  assert.not.ok(partial.doc.querySelector('#balance-card'), 'only the chart');
});

tests('a bad range or grouping is a 400 naming the field, marked in the form (full page and htmx); nothing is drawn', async ({ t, browser, userId }) => {
  await history(t, browser, userId);
  const cases: [string, string, RegExp][] = [
    ['range=custom&from=2027-02-30', 'from', /from must be a date as YYYY-MM-DD/],
    ['range=custom&from=2027-01-05&to=2027-01-01', 'to', /to must be on or after from/],
    ['range=custom&from=2025-01-01&to=2026-12-31', 'from', /at most 366/],
    ['range=fortnight', 'range', /range must be one of last_30, last_7, this_month, last_month, custom/],
    ['group=week', 'group', /group must be one of model, key, day/],
  ];
  const ids: Record<string, string> = { from: 'chart-from', to: 'chart-to', range: 'chart-range', group: 'chart-group' };
  for (const [query, field, message] of cases) {
    const full = await browser.get(`/credits/chart?${query}`);
    assert.is(full.status, 400, query);
    assert.is(full.doc.querySelector(`#${ids[field]}`)?.getAttribute('aria-invalid'), 'true', `${query}: ${field} marked`);
    assert.is(full.doc.querySelectorAll('#spend-chart-filters [aria-invalid]').length, 1, `${query}: only ${field}`);
    assert.match(text(full.doc.querySelector('#spend-chart-results [role="alert"]')), message);
    assert.not.ok(full.doc.querySelector('svg.spend-chart'), 'nothing drawn');
    assert.ok(full.doc.querySelector('#balance-card'), 'the rest of the page is there');
    const htmx = await browser.get(`/credits/chart?${query}`, { htmx: true });
    assert.is(htmx.status, 400, `${query} (htmx)`);
    assert.match(text(htmx.doc.querySelector('#spend-chart-results [role="alert"]')), message);
    assert.is(htmx.doc.querySelector(`#spend-chart-filters[hx-swap-oob="true"] #${ids[field]}`)?.getAttribute('aria-invalid'), 'true', `${query}: the form comes out of band, ${field} marked`);
  }
  const long = await browser.get(`/credits/chart?range=${'x'.repeat(5_000)}`);
  assert.is(long.status, 400);
  assert.ok(text(long.doc.querySelector('#spend-chart-results [role="alert"]')).length < 200, 'the echo is bounded');
});

tests('no calls in the range: the chart says so; a new user sees no run-out line', async ({ browser }) => {
  const { doc } = await browser.get('/credits');
  assert.match(text(doc.querySelector('#spend-chart-results')), /No calls in this range/);
  assert.not.ok(doc.querySelector('svg.spend-chart'));
  assert.not.ok(doc.querySelector('#balance-card .run-out'));
});

tests('run-out: the balance at the last 7 days\' rate, in whole days rounded down; older spend does not count', async ({ t, browser, userId }) => {
  await history(t, browser, userId);
  const all = await usageRows(t, userId);
  const spent = sum(inRange(all, '2026-12-30', '2027-01-05'));
  const balance = Number((await t.db.selectFrom('wallets').select('balance_mc').where('user_id', '=', userId).executeTakeFirstOrThrow()).balance_mc);
  const days = Math.floor((balance * 7) / spent);
  assert.ok(days > 30, 'a balance that lasts a while');
  const card = (await browser.get('/credits')).doc.querySelector('#balance-card')!;
  assert.is(card.querySelector('.run-out')?.getAttribute('data-days'), String(days));
  assert.is(text(card.querySelector('.run-out')), `At the last 7 days' rate your balance lasts about ${days.toLocaleString('en-US')} days.`);
  // Eight quiet days later the week has no spend: nothing is said.
  t.clock.advance(8 * DAY_MS);
  await freshSession(t, browser, userId);
  assert.not.ok((await browser.get('/credits/balance')).doc.querySelector('.run-out'));
});

tests('runOutDays: balance × 7 ÷ spend, rounded down; none with no spend or no balance; exact past 2^53 ÷ 7', () => {
  assert.is(runOutDays(700, 7), 700, '1 a day');
  assert.is(runOutDays(1_000, 700), 10);
  assert.is(runOutDays(1_000, 701), 9, 'rounded down: 9.98 days is 9');
  assert.is(runOutDays(99, 700), 0, 'less than a day');
  assert.is(runOutDays(1_000, 0), null);
  assert.is(runOutDays(0, 500), null);
  assert.is(runOutDays(-5, 500), null);
  assert.is(runOutDays(Number.MAX_SAFE_INTEGER, 7), Number.MAX_SAFE_INTEGER);
});

tests('the keys page: each key\'s spend this month equals its usage rows of the month, against its limit, in USD beside', async ({ t, browser, userId }) => {
  const { backend, batch } = await history(t, browser, userId);
  const { apiKey: idle } = await createApiKey(t.db, t.clock, userId, 'idle');
  await setKeyLimits(t.db, userId, backend.id, { monthlyLimitMc: 100_000, maxInFlight: 0 });
  const month = (await usageRows(t, userId)).filter((r) => r.day >= '2027-01-01');
  const { doc, status } = await browser.get('/keys');
  assert.is(status, 200);
  const spendOf = (id: number) => doc.querySelector(`tr[data-key-id="${id}"] .key-spend`)!;
  const backendMc = sum(month.filter((r) => r.apiKeyId === backend.id));
  const batchMc = sum(month.filter((r) => r.apiKeyId === batch.id));
  assert.ok(backendMc > 0 && batchMc > 0);
  assert.is(mcOf(spendOf(backend.id)), backendMc, 'December\'s calls are not this month\'s');
  assert.is(mcOf(spendOf(batch.id)), batchMc);
  assert.is(mcOf(spendOf(idle.id)), 0);
  const credits = (mc: number) => `${Math.floor(mc / 1000).toLocaleString('en-US')}.${String(mc % 1000).padStart(3, '0')}`;
  assert.is(text(spendOf(backend.id)), `${credits(backendMc)} of 100 credits (${Math.floor(backendMc / 1000)}%) ≈ $${(Math.ceil(backendMc / 100) / 10_000).toFixed(4)}`);
  assert.match(text(spendOf(batch.id)), new RegExp(`^${credits(batchMc).replace('.', '\\.')} credits, no limit`));
});

tests.run();
