// CSV links: "Copy link" beside a Download CSV makes a URL that a tool with no header fetches over real
// HTTP (no cookie, no key) for the same CSV as the signed-in download; any changed parameter, date,
// path or secret is refused 403; revoked or expired answers 410 with one line; no other route or user
// is reached through it; at most MAX_LIVE_CSV_LINKS live links per user (parallel creates included).
import * as assert from 'uvu/assert';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { grantCredits } from '../src/ledger/credits.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { MAX_LIVE_CSV_LINKS } from '../src/exports/csv-links.ts';
import { audit } from '../src/audit.ts';
import type { Browser, TestApp } from './helpers/app.ts';
import { signedIn, signedInSuite, type SignedInContext } from './helpers/signed-in.ts';
import { makeCall } from './helpers/usage.ts';

const DAY_MS = 86_400_000;

/** Every link a test made: none of their secrets may reach the log. */
const made: string[] = [];

const links = signedInSuite('csv links', 'sheets@example.com', {
  afterEach: ({ t }: SignedInContext) => {
    for (const url of made.splice(0)) {
      const secret = new URL(url).searchParams.get('link')!.split('.')[1]!;
      assert.not.ok(t.logLines.some((line) => line.includes(secret)), 'a CSV link secret in the log');
    }
  },
});

/** The app on a real port, for fetches by a tool that has no cookie or key. */
async function onRealPort(t: TestApp): Promise<{ get: (url: string) => Promise<Response>; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started as Server));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    // The link's own origin is PUBLIC_URL's; the same path and query are fetched from this server.
    get: (url) => {
      const parsed = new URL(url, 'http://x');
      return fetch(`${origin}${parsed.pathname}${parsed.search}`, { redirect: 'manual' });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Some usage over two days and two models, one call through a key. */
async function history(t: TestApp, userId: number) {
  await grantCredits(t.db, t.clock, { userId, amountMc: 10_000_000, reason: 'start' });
  const { apiKey } = await createApiKey(t.db, t.clock, userId, 'sheet');
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 100, outputTokens: 20 });
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 300, outputTokens: 40, apiKeyId: apiKey.id, advanceMs: DAY_MS });
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o-mini', inputTokens: 500, outputTokens: 60, advanceMs: 1_000 });
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 700, outputTokens: 80, advanceMs: 1_000 });
}

/** The "Copy link" form under a table, as the page shows it: its fields. */
async function copyLinkFields(browser: Browser, tablePath: string, days = '30'): Promise<Record<string, string>> {
  const page = await browser.get(tablePath);
  assert.is(page.status, 200);
  const form = page.doc.querySelector(`${tablePath.startsWith('/credits/usage') ? '#usage-results' : '#ledger-results'} form.csv-link-form`);
  assert.ok(form, 'a Copy link form beside Download CSV');
  const value = (name: string) => form!.querySelector(`input[name="${name}"]`)!.getAttribute('value') ?? '';
  assert.is(form!.querySelector('select[name="days"] option[selected]')?.getAttribute('value'), '30', 'the default is 30 days');
  return { export: value('export'), query: value('query'), days };
}

/** "Copy link" with JavaScript (htmx): the link shown under the form. */
async function makeLink(browser: Browser, tablePath: string, days = '30'): Promise<string> {
  const answer = await browser.post('/credits/csv-links', await copyLinkFields(browser, tablePath, days), { htmx: true });
  assert.is(answer.status, 200, answer.text);
  assert.is(answer.headers.get('cache-control'), 'no-store');
  const url = answer.doc.querySelector('#new-csv-link-url')?.textContent?.trim() ?? '';
  assert.ok(answer.doc.querySelector('[data-copy-now][data-copy-target="new-csv-link-url"]'), 'app.js copies it at once');
  made.push(url);
  return url;
}

links('a link for a filtered usage export gives, with no cookie or key, the same CSV as the signed-in download', async ({ t, browser, userId }) => {
  await history(t, userId);
  const url = await makeLink(browser, '/credits/usage?model=gpt-4o&from=2026-11-27');
  assert.match(url, /^http:\/\/localhost:3000\/credits\/usage\.csv\?model=gpt-4o&from=2026-11-27&link=\d+\.[a-z2-7]{32}$/);
  const signedInCsv = await browser.get('/credits/usage.csv?model=gpt-4o&from=2026-11-27');
  assert.is(signedInCsv.text.split('\r\n').length, 4, 'a header and two rows: the filters apply');
  const server = await onRealPort(t);
  try {
    const answer = await server.get(url);
    assert.is(answer.status, 200);
    assert.is(answer.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.is(answer.headers.get('cache-control'), 'no-store');
    assert.is(await answer.text(), signedInCsv.text);
  } finally {
    await server.close();
  }
  // Listed on the keys page with its filters and when it was last used.
  const keys = await browser.get('/keys');
  const row = keys.doc.querySelector('#csv-links tr[data-csv-link-id]');
  assert.ok(row);
  assert.match(row!.textContent ?? '', /Usage/);
  assert.match(row!.textContent ?? '', /model=gpt-4o · from=2026-11-27/);
  assert.match(row!.querySelector('[data-label="Last used (UTC)"]')!.textContent ?? '', /2026-11-27 12:00/);
  assert.not.ok(keys.text.includes(new URL(url).searchParams.get('link')!.split('.')[1]!), 'the secret is shown only once');
  assert.equal(await audit(t.db), []);
});

links('without JavaScript: Copy link posts, 303 to the keys page which shows the link once', async ({ t, browser, userId }) => {
  await history(t, userId);
  const fields = await copyLinkFields(browser, '/credits/ledger?type=usage', '7');
  const answer = await browser.post('/credits/csv-links', fields);
  assert.is(answer.status, 303);
  assert.is(answer.headers.get('location'), '/keys#csv-links');
  const page = await browser.follow(answer);
  assert.is(page.headers.get('cache-control'), 'no-store');
  const url = page.doc.querySelector('#csv-links #new-csv-link-url')?.textContent?.trim() ?? '';
  made.push(url);
  assert.match(url, /^http:\/\/localhost:3000\/credits\/ledger\.csv\?type=usage&link=\d+\.[a-z2-7]{32}$/);
  assert.match(page.doc.querySelector('#csv-links .new-csv-link')!.textContent ?? '', /works until 2026-12-04 12:00 UTC/);
  const again = await browser.get('/keys');
  assert.not.ok(again.doc.querySelector('#new-csv-link-url'), 'a refresh does not show it again');
  assert.is(again.doc.querySelectorAll('#csv-links tr[data-csv-link-id]').length, 1);
  const server = await onRealPort(t);
  try {
    const csv = await server.get(url);
    assert.is(csv.status, 200);
    assert.is(await csv.text(), (await browser.get('/credits/ledger.csv?type=usage')).text);
  } finally {
    await server.close();
  }
});

links('a changed parameter, date, path or secret is refused 403; nothing else is reached through a link', async ({ t, browser, userId }) => {
  await history(t, userId);
  const url = await makeLink(browser, '/credits/usage?model=gpt-4o&from=2026-11-27');
  const token = new URL(url).searchParams.get('link')!;
  const server = await onRealPort(t);
  try {
    const refused = [
      `/credits/usage.csv?model=gpt-4o-mini&from=2026-11-27&link=${token}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-26&link=${token}`,
      `/credits/usage.csv?model=gpt-4o&link=${token}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-27&to=2026-11-30&link=${token}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-27&model=gpt-4o&link=${token}`,
      `/credits/ledger.csv?model=gpt-4o&from=2026-11-27&link=${token}`,
      `/credits/usage/req_x.csv?model=gpt-4o&from=2026-11-27&link=${token}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-27&link=${token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-27&link=${Number(token.split('.')[0]) + 1}.${token.split('.')[1]}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-27&link=${token}&link=${token}`,
      `/credits/usage.csv?model=gpt-4o&from=2026-11-27&link=nonsense`,
    ];
    for (const path of refused) {
      const answer = await server.get(path);
      assert.is(answer.status, 403, path);
      const text = await answer.text();
      assert.is(text.split('\n').length, 2, `one line: ${text}`);
      assert.not.match(text, /date,request_id/);
    }
    // The same parameters in another order are the same query.
    assert.is((await server.get(`/credits/usage.csv?from=2026-11-27&link=${token}&model=gpt-4o`)).status, 200);
    // No other route: the link is no session and no key there.
    for (const path of [`/credits?link=${token}`, `/credits/usage?model=gpt-4o&from=2026-11-27&link=${token}`, `/keys?link=${token}`, `/settings/billing?link=${token}`]) {
      const answer = await server.get(path);
      assert.is(answer.status, 303, path);
      assert.match(answer.headers.get('location') ?? '', /^\/login/, path);
    }
    assert.is((await server.get(`/v1/usage?link=${token}`)).status, 401);
    assert.is((await server.get(`/v1/credits?link=${token}`)).status, 401);
  } finally {
    await server.close();
  }
});

links('revoked on the keys page: 410 with one line; another user can neither see nor revoke it', async ({ t, browser, userId }) => {
  await history(t, userId);
  const url = await makeLink(browser, '/credits/usage?model=gpt-4o');
  const other = await signedIn(t, 'other@example.com');
  const otherKeys = await other.browser.get('/keys');
  assert.is(otherKeys.doc.querySelectorAll('#csv-links tr[data-csv-link-id]').length, 0, 'not listed for another user');
  const linkId = (await browser.get('/keys')).doc.querySelector('#csv-links tr[data-csv-link-id]')!.getAttribute('data-csv-link-id');
  assert.is((await other.browser.post(`/credits/csv-links/${linkId}/revoke`, {})).status, 404);
  const server = await onRealPort(t);
  try {
    assert.is((await server.get(url)).status, 200, 'still works after the other user tried');
    const revoke = await browser.post(`/credits/csv-links/${linkId}/revoke`, {});
    assert.is(revoke.status, 303);
    const page = await browser.follow(revoke);
    assert.match(page.doc.querySelector('.notice')?.textContent ?? '', /CSV link was revoked/);
    assert.is(page.doc.querySelectorAll('#csv-links tr[data-csv-link-id]').length, 0);
    const gone = await server.get(url);
    assert.is(gone.status, 410);
    assert.is(await gone.text(), 'This CSV link was revoked.\n');
    assert.is((await browser.post(`/credits/csv-links/${linkId}/revoke`, {})).status, 404, 'revoked once');
  } finally {
    await server.close();
  }
});

links('expired by the clock: works to the last millisecond of its days, then 410 with one line', async ({ t, browser, userId }) => {
  await history(t, userId);
  const url = await makeLink(browser, '/credits/ledger', '1');
  const server = await onRealPort(t);
  try {
    t.clock.advance(DAY_MS - 1);
    assert.is((await server.get(url)).status, 200);
    t.clock.advance(1);
    const gone = await server.get(url);
    assert.is(gone.status, 410);
    assert.is(await gone.text(), 'This CSV link expired on 2026-11-28.\n');
    assert.is((await browser.get('/keys')).doc.querySelectorAll('#csv-links tr[data-csv-link-id]').length, 0, 'an expired link leaves the list');
  } finally {
    await server.close();
  }
});

links(`bad fields are refused naming them; at most ${MAX_LIVE_CSV_LINKS} live links, even made in parallel`, async ({ t, browser, userId }) => {
  await history(t, userId);
  const bad: [Record<string, string>, RegExp][] = [
    [{ export: 'users', query: '', days: '30' }, /^export must be usage or ledger/],
    [{ export: 'usage', query: '', days: '365' }, /^days must be one of 1, 7, 30, 90/],
    [{ export: 'usage', query: 'model=nope', days: '30' }, /^model must be one of/],
    [{ export: 'usage', query: 'model=<img src=x>', days: '30' }, /got "<img src=x>"$/],
    [{ export: 'ledger', query: 'from=2026-13-01', days: '30' }, /^from must be a date/],
    [{ export: 'usage', query: 'x'.repeat(1_001), days: '30' }, /^query must be at most 1000 characters/],
  ];
  for (const [form, message] of bad) {
    const answer = await browser.post('/credits/csv-links', form, { htmx: true });
    assert.not.ok(answer.doc.querySelector('img'), 'what was sent is shown as text');
    assert.is(answer.status, 400, JSON.stringify(form));
    assert.match(answer.doc.querySelector('.form-error[role="alert"]')?.textContent ?? '', message);
  }
  const count = async () => Number((await t.db.selectFrom('csv_links').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  assert.is(await count(), 0, 'nothing stored for a bad form');
  // A cursor is the page's, not the export's: the link covers the filters alone.
  const answers = await Promise.all(Array.from({ length: MAX_LIVE_CSV_LINKS + 8 }, () => browser.post('/credits/csv-links', { export: 'usage', query: 'model=gpt-4o', days: '30' }, { htmx: true })));
  assert.is(answers.filter((a) => a.status === 200).length, MAX_LIVE_CSV_LINKS);
  const refused = answers.filter((a) => a.status !== 200);
  assert.is(refused.length, 8);
  for (const answer of refused) assert.is(answer.status, 409);
  assert.match(refused[0]!.text, /^You have 50 CSV links that still work: revoke one on the API keys page first\.\n$/);
  for (const answer of answers) if (answer.status === 200) made.push(answer.doc.querySelector('#new-csv-link-url')!.textContent!.trim());
  assert.is(await count(), MAX_LIVE_CSV_LINKS);
  // Without JavaScript the refusal is a page that says so.
  const plain = await browser.post('/credits/csv-links', { export: 'usage', query: '', days: '30' });
  assert.is(plain.status, 409);
  assert.match(plain.doc.querySelector('.form-error')?.textContent ?? '', /50 CSV links/);
  // Revoking one, or one expiring, makes room.
  const linkId = (await browser.get('/keys')).doc.querySelector('#csv-links tr[data-csv-link-id]')!.getAttribute('data-csv-link-id');
  assert.is((await browser.post(`/credits/csv-links/${linkId}/revoke`, {}, { htmx: true })).status, 200);
  assert.is((await browser.post('/credits/csv-links', { export: 'ledger', query: '', days: '1' }, { htmx: true })).status, 200);
  assert.is((await browser.post('/credits/csv-links', { export: 'ledger', query: '', days: '1' }, { htmx: true })).status, 409);
  t.clock.advance(DAY_MS);
  const afterExpiry = await browser.post('/credits/csv-links', { export: 'ledger', query: 'cursor=abc', days: '30' }, { htmx: true });
  assert.is(afterExpiry.status, 400, 'a bad cursor is still a bad filter');
  assert.is((await browser.post('/credits/csv-links', { export: 'ledger', query: '', days: '30' }, { htmx: true })).status, 200);
});

links.run();
