// The CSV exports: exact formats, quoting, the formula guard, UTC dates, 3 decimals, filters,
// Bearer keys, bad filters and tampered cursors, batches, and tenant isolation.
import * as assert from 'uvu/assert';
import { grantCredits } from '../src/ledger/credits.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { textCell } from '../src/exports/csv.ts';
import { EXPORT_BATCH_ROWS } from '../src/exports/batched-export.ts';
import { writeTransaction } from '../src/db/transaction.ts';
import { recordCreditIn } from '../src/ledger/credits.ts';
import { signedIn, signedInSuite } from './helpers/signed-in.ts';
import { makeCall } from './helpers/usage.ts';

const csv = signedInSuite('csv exports', 'csv@example.com');

/** RFC 4180 lines (no quoted line breaks in these tests' expectations unless stated). */
const lines = (body: string) => body.split('\r\n').slice(0, -1);

csv('text cells: quoted when needed, quotes doubled, formulas guarded', () => {
  assert.is(textCell('plain'), 'plain');
  assert.is(textCell('a,b'), '"a,b"');
  assert.is(textCell('say "hi"'), '"say ""hi"""');
  assert.is(textCell('two\nlines'), '"two\nlines"');
  assert.is(textCell('=SUM(A1:A9)'), "'=SUM(A1:A9)");
  assert.is(textCell('+1'), "'+1");
  assert.is(textCell('-2'), "'-2");
  assert.is(textCell('@cmd'), "'@cmd");
  assert.is(textCell('\tx'), "'\tx");
  assert.is(textCell('=a,b'), `"'=a,b"`);
});

csv('usage CSV: header, ISO UTC dates, rates and credits with 3 decimals, numbers unquoted, key prefix', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 10_000_000, reason: 'r' });
  const { apiKey } = await createApiKey(t.db, t.clock, userId, 'exporter');
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', inputTokens: 1_234, outputTokens: 567, apiKeyId: apiKey.id, requestId: 'req_a' });
  t.clock.advance(123);
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o-mini', inputTokens: 1_000, cachedInputTokens: 600, outputTokens: 0, status: 'aborted', estimated: true, requestId: 'req_b' });
  const answer = await browser.get('/credits/usage.csv');
  assert.is(answer.status, 200);
  assert.is(answer.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(answer.headers.get('content-disposition') ?? '', /^attachment; filename="usage-2026-11-26\.csv"$/);
  assert.equal(lines(answer.text), [
    'date,request_id,model,input_tokens,cached_input_tokens,output_tokens,input_rate,cached_input_rate,output_rate,charged_credits,status,estimated,api_key',
    `2026-11-26T12:00:00.123Z,req_b,gpt-4o-mini,1000,600,0,2.400,1.200,9.600,1.680,aborted,true,`,
    `2026-11-26T12:00:00.000Z,req_a,gpt-4o,1234,0,567,20.000,10.000,80.000,70.040,ok,false,${apiKey.prefix}`,
  ]);
});

csv('ledger CSV: header, signed amounts, balance after, references quoted and guarded', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 12_500, reason: '=HYPERLINK("http://evil")' });
  t.clock.advance(1);
  await grantCredits(t.db, t.clock, { userId, amountMc: 1, reason: 'promo, "spring"\nline two' });
  t.clock.advance(1);
  await makeCall(t.db, t.clock, userId, { inputTokens: 750, outputTokens: 200, requestId: 'req_l' });
  const answer = await browser.get('/credits/ledger.csv');
  const entries = await t.db.selectFrom('ledger_entries').select('id').orderBy('id').execute();
  assert.is(
    answer.text,
    [
      'date,entry_id,type,amount_credits,balance_after_credits,reference',
      `2026-11-26T12:00:00.002Z,${entries[2]!.id},usage,-3.720,8.781,req_l`,
      `2026-11-26T12:00:00.001Z,${entries[1]!.id},grant,0.001,12.501,"promo, ""spring""\nline two"`,
      `2026-11-26T12:00:00.000Z,${entries[0]!.id},grant,12.500,12.500,"'=HYPERLINK(""http://evil"")"`,
      '',
    ].join('\r\n'),
  );
});

csv('filters are honoured and a Bearer API key works (the curl in the README)', async ({ t, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 10_000_000, reason: 'r' });
  const { key } = await createApiKey(t.db, t.clock, userId, 'script');
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', requestId: 'req_old' });
  t.clock.advance(86_400_000);
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o', requestId: 'req_new' });
  await makeCall(t.db, t.clock, userId, { model: 'gpt-4o-mini', requestId: 'req_mini' });
  const answer = await t.fetch('/credits/usage.csv?from=2026-11-27&model=gpt-4o', { headers: { authorization: `Bearer ${key}` } });
  assert.is(answer.status, 200);
  const rows = lines(await answer.text()).slice(1).map((l) => l.split(',')[1]);
  assert.equal(rows, ['req_new']);
  const ledger = await t.fetch('/credits/ledger.csv?type=grant', { headers: { authorization: `Bearer ${key}` } });
  assert.is(lines(await ledger.text()).length, 2);
  const anonymous = await t.fetch('/credits/usage.csv');
  assert.is(anonymous.status, 303, 'no session and no key: sign in');
  const wrongKey = await t.fetch('/credits/usage.csv', { headers: { authorization: 'Bearer tt_nope' } });
  assert.is(wrongKey.status, 401);
});

csv('a bad filter or a tampered cursor: 400 with one line naming the parameter', async ({ browser }) => {
  const cases: [string, RegExp][] = [
    ['/credits/usage.csv?from=26-11-2026', /^from must be a date as YYYY-MM-DD/],
    ['/credits/usage.csv?to=2026-02-30', /^to must be a date/],
    ['/credits/usage.csv?from=2026-11-27&to=2026-11-26', /^to must be on or after from/],
    ['/credits/usage.csv?model=gpt-9', /^model must be one of/],
    ['/credits/usage.csv?key=12345', /^key must be one of your API keys/],
    ['/credits/ledger.csv?type=bonus', /^type must be one of purchase, auto_recharge/],
    ['/credits/ledger.csv?cursor=abc.def', /^cursor is not valid/],
  ];
  for (const [url, message] of cases) {
    const answer = await browser.get(url);
    assert.is(answer.status, 400, url);
    assert.match(answer.text, message);
    assert.is(answer.text.trim().split('\n').length, 1);
  }
  const page = await browser.get('/credits/ledger');
  const older = page.doc.querySelector('#ledger-results a[rel="next"]');
  assert.not.ok(older, 'one entry: no older page');
});

csv('an export longer than one batch is complete, in order, with no row twice', async ({ t, browser, userId }) => {
  const total = EXPORT_BATCH_ROWS * 2 + 17;
  await writeTransaction(t.db, async (trx) => {
    for (let i = 0; i < total; i++) await recordCreditIn(trx, t.clock.now() + (i % 5 === 0 ? 0 : i), { userId, type: 'grant', amountMc: 1, reference: `g${i}` });
  });
  const answer = await browser.get('/credits/ledger.csv');
  const rows = lines(answer.text).slice(1);
  assert.is(rows.length, total);
  const ids = rows.map((r) => Number(r.split(',')[1]));
  assert.is(new Set(ids).size, total);
  const dates = rows.map((r) => r.split(',')[0]!);
  assert.equal([...dates].sort().reverse(), dates, 'newest first');
});

csv('another user\'s rows never appear in my export', async ({ t, browser, userId }) => {
  await grantCredits(t.db, t.clock, { userId, amountMc: 1_000, reason: 'mine' });
  const otherId = (await signedIn(t, 'other@example.com')).user.id;
  await grantCredits(t.db, t.clock, { userId: otherId, amountMc: 1_000, reason: 'theirs' });
  const mine = await browser.get('/credits/ledger.csv');
  assert.match(mine.text, /mine/);
  assert.not.match(mine.text, /theirs/);
});

csv.run();
