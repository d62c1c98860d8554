// Promo credits and redemption codes: codes made by the CLI, redeemed on the Credits page (plain form
// and htmx), spent before paid credit by calls through the official SDK, expired by the job when the
// clock passes their end, never clawed back by a refund, and redeemed exactly once under real
// concurrency (parallel HTTP requests); `audit` clean after each, and an over-redemption caught.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../src/cli/run.ts';
import { audit } from '../src/audit.ts';
import { expirePromoGrants } from '../src/ledger/promo-grants.ts';
import { startSingletonJob } from '../src/jobs/singleton.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { DAY_MS } from '../src/month.ts';
import { sessionCookieName } from '../src/web/session-cookie.ts';
import { createSession, generateSessionToken } from '../src/auth/sessions.ts';
import { Browser } from './helpers/app.ts';
import { killAll, resultsOf, startTogether } from './helpers/processes.ts';
import { assertBooksClean, startGatewayHarness, type GatewayHarness } from './helpers/gateway.ts';
import { makeUser, rateOf } from './helpers/db.ts';
import { assertAuditClean, balanceMc, chargeIdOf, deliver, entriesOf, purchaseOf, sessionEvent, signedInBuyer, startPurchase, STARTER_MC, stripeWorld } from './helpers/billing.ts';

const CODE = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/;

/** `promo:create` against the harness's database and clock; its output lines. */
async function promoCreate(h: GatewayHarness, args: Record<string, string>): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const argv = ['promo:create', ...Object.entries(args).flatMap(([flag, value]) => [`--${flag}`, value])];
  const code = await runCli(argv, { env: { DATABASE_URL: h.databaseUrl, SQLITE_SYNCHRONOUS: 'normal' }, clock: h.clock, readStdin: async () => '', out: (l) => lines.push(l), err: (l) => errors.push(l) });
  return { code, lines, errors };
}

/** One code of `credits` credits, `redemptions` users each, lasting `lastDays` once redeemed, redeemable for `validDays`. */
async function oneCode(h: GatewayHarness, credits: string, redemptions = 1, lastDays = 7, validDays = 30): Promise<string> {
  const made = await promoCreate(h, { credits, codes: '1', redemptions: String(redemptions), 'credits-last-days': String(lastDays), 'valid-days': String(validDays) });
  assert.is(made.code, 0, made.errors.join('\n'));
  return made.lines[0]!;
}

/** A browser on the harness's real port, signed in as `userId` (a session made directly). */
async function browserOf(h: GatewayHarness, userId: number): Promise<Browser> {
  const browser = new Browser((path, init) => fetch(`${h.url}${path}`, init), h.config, '127.0.0.1');
  const token = generateSessionToken();
  await createSession(h.db, h.clock, token, userId);
  browser.cookies.set(sessionCookieName(h.config), token);
  return browser;
}

async function promoEntries(h: GatewayHarness, userId: number) {
  return h.db.selectFrom('ledger_entries').select(['type', 'amount_mc']).where('user_id', '=', userId).where('type', 'in', ['promo', 'expiry']).orderBy('id').execute();
}

/** The wallet's balance and its live promo credit (wallets.promo_mc), as stored. */
async function walletOf(t: { db: GatewayHarness['db'] }, userId: number) {
  const row = await t.db.selectFrom('wallets').select(['balance_mc', 'promo_mc']).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return { balanceMc: Number(row.balance_mc), promoMc: Number(row.promo_mc) };
}

const balanceCardText = async (browser: Browser) => (await browser.get('/credits/balance', { htmx: true })).doc.querySelector('#balance-card')?.textContent?.replace(/\s+/g, ' ') ?? '';

const promo = suite<{ h: GatewayHarness }>('promo credits');
promo.before(async (context) => {
  context.h = await startGatewayHarness();
});
promo.before.each(({ h }) => h.fake.reset());
promo.after.each(async ({ h }) => assertBooksClean(h));
promo.after(async ({ h }) => {
  killAll();
  await h.closeAll();
});

promo('promo:create prints the codes one per line, keeps only their hashes, and refuses bad flags writing nothing', async ({ h }) => {
  const made = await promoCreate(h, { credits: '2.5', codes: '3', redemptions: '10', 'credits-last-days': '7', 'valid-days': '30' });
  assert.is(made.code, 0, made.errors.join('\n'));
  assert.is(made.lines.length, 3);
  for (const line of made.lines) assert.match(line, CODE);
  assert.is(new Set(made.lines).size, 3, 'three different codes');
  const rows = await h.db.selectFrom('promo_codes').selectAll().orderBy('id', 'desc').limit(3).execute();
  assert.equal(rows.map((r) => [Number(r.credits_mc), r.max_redemptions, Number(r.credits_last_ms), Number(r.valid_until_ms)]), Array(3).fill([2_500, 10, 7 * DAY_MS, h.clock.now() + 30 * DAY_MS]));
  const stored = JSON.stringify(rows);
  for (const line of made.lines) assert.not.ok(stored.includes(line.replaceAll('-', '')), 'the code itself is not stored');
  const before = await h.db.selectFrom('promo_codes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  for (const [flag, value] of [['codes', '0'], ['redemptions', 'x'], ['credits', '-1'], ['valid-days', '3651'], ['codes', '10001']] as const) {
    const refused = await promoCreate(h, { credits: '1', codes: '1', redemptions: '1', 'credits-last-days': '1', 'valid-days': '1', [flag]: value });
    assert.is(refused.code, 2, `--${flag} ${value}`);
    assert.match(refused.errors.join('\n'), `--${flag}`);
    assert.equal(refused.lines, []);
  }
  const after = await h.db.selectFrom('promo_codes').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.is(Number(after.n), Number(before.n), 'nothing written');
});

promo('redeemed on the Credits page: a plain form gets a 303 back to the tab, which shows the credit and when it expires; htmx gets HX-Redirect', async ({ h }) => {
  const user = await makeUser(h.db, h.clock);
  const browser = await browserOf(h, user.id);
  const page = await browser.get('/credits');
  const form = page.doc.querySelector('form#redeem');
  assert.is(form?.getAttribute('action'), '/credits/redeem');
  assert.is(form?.getAttribute('hx-post'), '/credits/redeem');
  assert.ok(form?.querySelector('input[name="code"]'), 'a code field');

  const code = await oneCode(h, '5', 1, 7);
  const redeemedAtMs = h.clock.now();
  // Typed in lower case with spaces: the same code.
  const answer = await browser.post('/credits/redeem', { code: ` ${code.toLowerCase().replaceAll('-', ' ')} ` });
  assert.is(answer.status, 303);
  assert.is(answer.headers.get('location'), '/credits#balance-card');
  const tab = await browser.follow(answer);
  assert.is(tab.doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), '5000');
  const expiresOn = new Date(redeemedAtMs + 7 * DAY_MS).toISOString().slice(0, 16).replace('T', ' ');
  assert.match(tab.doc.querySelector('#balance-card .promo-expiring')?.textContent?.replace(/\s+/g, ' ') ?? '', `5.000 credits expire on ${expiresOn} UTC`);
  assert.match(tab.doc.querySelector('#ledger')?.textContent ?? '', 'Promo code');

  const second = await oneCode(h, '1.25');
  const htmx = await browser.post('/credits/redeem', { code: second }, { htmx: true });
  assert.is(htmx.status, 200);
  assert.is(htmx.headers.get('hx-redirect'), '/credits#balance-card');
  assert.is(await balanceMc(h as never, user.id), 6_250);
  assert.equal(await promoEntries(h, user.id), [{ type: 'promo', amount_mc: 5_000 }, { type: 'promo', amount_mc: 1_250 }]);
  assert.equal(await audit(h.db), []);
});

promo('unknown, malformed, expired, used-up and already redeemed codes are refused with a marked field; nothing is credited', async ({ h }) => {
  const user = await makeUser(h.db, h.clock);
  const other = await makeUser(h.db, h.clock);
  const browser = await browserOf(h, user.id);
  const used = await oneCode(h, '3', 1);
  assert.is((await (await browserOf(h, other.id)).post('/credits/redeem', { code: used })).status, 303);
  const mine = await oneCode(h, '2', 5);
  assert.is((await browser.post('/credits/redeem', { code: mine })).status, 303);
  const expiring = await oneCode(h, '4', 5, 7, 1);
  h.clock.advance(DAY_MS);
  const cases: [string, number, RegExp][] = [
    ['ABCD-EFGH-JKMN-PQRS', 400, /no such promo code/],
    ['not a code', 400, /not a promo code/],
    ['A'.repeat(5_000), 400, /not a promo code/],
    [expiring, 422, /has expired/],
    [used, 422, /used up/],
    [mine, 422, /already redeemed/],
  ];
  for (const [code, status, message] of cases) {
    // htmx: the form alone, its field marked.
    const partial = await browser.post('/credits/redeem', { code }, { htmx: true });
    assert.is(partial.status, status, code.slice(0, 30));
    assert.is(partial.doc.querySelector('form#redeem input[name="code"]')?.getAttribute('aria-invalid'), 'true');
    assert.match(partial.doc.querySelector('form#redeem .field-error')?.textContent ?? '', message);
    assert.not.ok(partial.doc.querySelector('#balance-card'), 'the form alone');
    // A plain form: the whole tab, the same field marked.
    const full = await browser.post('/credits/redeem', { code });
    assert.is(full.status, status);
    assert.match(full.doc.querySelector('form#redeem .field-error')?.textContent ?? '', message);
    assert.ok(full.doc.querySelector('#balance-card'));
  }
  assert.is(await balanceMc(h as never, user.id), 2_000, 'only the one good redemption');
  assert.equal(await promoEntries(h, user.id), [{ type: 'promo', amount_mc: 2_000 }]);
  assert.equal(await audit(h.db), []);
});

promo('calls through the official SDK spend promo credit first, then paid credit, in exact millicredits', async ({ h }) => {
  const account = await h.account(10_000);
  const browser = await browserOf(h, account.userId);
  assert.is((await browser.post('/credits/redeem', { code: await oneCode(h, '5') })).status, 303);
  // gpt-4o: 20 mc an input token, 80 an output token.
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 100, completion_tokens: 25 } });
  await account.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 });
  let wallet = await walletOf(h, account.userId);
  assert.equal([wallet.balanceMc, wallet.promoMc], [15_000 - 4_000, 1_000], '4,000 mc, all from promo');
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 100, completion_tokens: 50 } });
  await account.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 });
  wallet = await walletOf(h, account.userId);
  assert.equal([wallet.balanceMc, wallet.promoMc], [11_000 - 6_000, 0], '6,000 mc: the last 1,000 of promo, then 5,000 paid');
  const grant = await h.db.selectFrom('promo_grants').selectAll().where('user_id', '=', account.userId).executeTakeFirstOrThrow();
  assert.equal([Number(grant.amount_mc), Number(grant.remaining_mc)], [5_000, 0]);
  assert.not.match(await balanceCardText(browser), 'expire on', 'nothing left to expire');
  assert.equal(await audit(h.db), []);
});

promo('expiry: the job, run by one of two processes when the clock passes the end, takes exactly the unspent promo credit; a second run takes nothing', async ({ h }) => {
  const account = await h.account(10_000);
  const browser = await browserOf(h, account.userId);
  assert.is((await browser.post('/credits/redeem', { code: await oneCode(h, '5', 1, 3) })).status, 303);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 50, completion_tokens: 20 } });
  await account.client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 });
  // 50 × 20 + 20 × 80 = 2,600 mc from promo; 2,400 left, until 3 days after redemption.
  assert.match(await balanceCardText(browser), '2.400 credits expire on');
  const job = (holder: string) => startSingletonJob(h.db, h.clock, { name: 'promo-expiry', holder, everyMs: 60_000, log: () => {} }, () => expirePromoGrants(h.db, h.clock));
  const [first, second] = [job('process-a'), job('process-b')];
  try {
    h.clock.advance(3 * DAY_MS - 1);
    assert.equal(await Promise.all([first.tick(), second.tick()]).then((ran) => ran.filter(Boolean).length), 1, 'one process runs the job');
    assert.is((await walletOf(h, account.userId)).promoMc, 2_400, 'not yet: one millisecond early');
    h.clock.advance(61_000);
    assert.equal((await Promise.all([first.tick(), second.tick()])).filter(Boolean).length, 1);
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
  assert.equal(await promoEntries(h, account.userId), [{ type: 'promo', amount_mc: 5_000 }, { type: 'expiry', amount_mc: -2_400 }]);
  const wallet = await walletOf(h, account.userId);
  assert.equal([wallet.balanceMc, wallet.promoMc], [10_000, 0], 'the paid credit stays');
  assert.not.match(await balanceCardText(browser), 'expire on');
  assert.is(await expirePromoGrants(h.db, h.clock), 0, 'a second run finds nothing');
  assert.equal((await promoEntries(h, account.userId)).length, 2);
  assert.equal(await audit(h.db), []);
});

promo('ten users redeeming one single-use code in parallel: exactly one is credited', async ({ h }) => {
  const code = await oneCode(h, '7');
  const users = [];
  for (let i = 0; i < 10; i++) users.push(await makeUser(h.db, h.clock));
  const browsers = await Promise.all(users.map((user) => browserOf(h, user.id)));
  const answers = await Promise.all(browsers.map((browser) => browser.post('/credits/redeem', { code })));
  assert.equal(answers.map((a) => a.status).sort(), [303, 422, 422, 422, 422, 422, 422, 422, 422, 422]);
  for (const refused of answers.filter((a) => a.status === 422)) assert.match(refused.doc.querySelector('form#redeem .field-error')?.textContent ?? '', /used up/);
  const credited = await h.db.selectFrom('ledger_entries').select(['user_id', 'amount_mc']).where('type', '=', 'promo').where('user_id', 'in', users.map((u) => u.id)).execute();
  assert.equal(credited.map((e) => Number(e.amount_mc)), [7_000]);
  const row = await h.db.selectFrom('promo_codes').select(['redemptions']).orderBy('id', 'desc').executeTakeFirstOrThrow();
  assert.is(row.redemptions, 1);
  assert.equal(await audit(h.db), []);
});

promo('one user redeeming a code five times in parallel is credited once', async ({ h }) => {
  const code = await oneCode(h, '3', 10);
  const user = await makeUser(h.db, h.clock);
  const browser = await browserOf(h, user.id);
  const answers = await Promise.all(Array.from({ length: 5 }, () => browser.post('/credits/redeem', { code }, { htmx: true })));
  assert.equal(answers.map((a) => a.status).sort(), [200, 422, 422, 422, 422]);
  assert.is(await balanceMc(h as never, user.id), 3_000);
  assert.equal(await promoEntries(h, user.id), [{ type: 'promo', amount_mc: 3_000 }]);
  assert.equal(await audit(h.db), []);
});

promo('expiry while a call holds promo credit: only what is available expires; the call spends the held part, and the rest expires on the next run', async ({ h }) => {
  const user = await makeUser(h.db, h.clock);
  assert.is((await (await browserOf(h, user.id)).post('/credits/redeem', { code: await oneCode(h, '5', 1, 1) })).status, 303);
  const rate = await rateOf(h.db, 'gpt-4o');
  const hold = await placeHold(h.db, h.clock, { userId: user.id, apiKeyId: null, requestId: 'req_promo_in_flight', rate, roundingMode: 'exact', amountMc: 4_000, ttlMs: 2 * DAY_MS });
  h.clock.advance(DAY_MS);
  assert.is(await expirePromoGrants(h.db, h.clock), 1_000, 'the 1,000 mc not held');
  assert.equal(await audit(h.db), []);
  // 30 output tokens: 2,400 mc, all promo; 1,600 mc of the grant are left, and expire next.
  await settleHold(h.db, h.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 30 }, status: 'ok', estimated: false, latencyMs: 5 });
  assert.equal(await walletOf(h, user.id), { balanceMc: 1_600, promoMc: 1_600 });
  assert.is(await expirePromoGrants(h.db, h.clock), 1_600);
  assert.equal(await walletOf(h, user.id), { balanceMc: 0, promoMc: 0 });
  assert.equal(await promoEntries(h, user.id), [{ type: 'promo', amount_mc: 5_000 }, { type: 'expiry', amount_mc: -1_000 }, { type: 'expiry', amount_mc: -1_600 }]);
  const grant = await h.db.selectFrom('promo_grants').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  assert.equal([Number(grant.remaining_mc), Number(grant.expired_mc), grant.ended_at_ms], [0, 2_600, h.clock.now()]);
  assert.is(await expirePromoGrants(h.db, h.clock), 0);
});

interface RedeemResult {
  credited: number;
  refused: Record<string, number>;
  errors: string[];
}

promo('two OS processes racing on one database: ten users for a single-use code credit one; one user from both processes, three times each, is credited once', async ({ h }) => {
  const single = await oneCode(h, '9');
  const users = [];
  for (let i = 0; i < 10; i++) users.push(await makeUser(h.db, h.clock));
  const halves = [users.slice(0, 5), users.slice(5)].map((half) => half.map((u) => u.id).join(','));
  const racers = await startTogether('test/workers/promo-worker.ts', 2, (i) => [h.databaseUrl, single, halves[i]!]);
  const results = await resultsOf<RedeemResult>(racers);
  assert.equal(results.flatMap((r) => r.errors), [], 'no error but refusals');
  assert.is(results[0]!.credited + results[1]!.credited, 1);
  assert.is((results[0]!.refused.used_up ?? 0) + (results[1]!.refused.used_up ?? 0), 9);
  const credited = await h.db.selectFrom('ledger_entries').select(['amount_mc']).where('type', '=', 'promo').where('user_id', 'in', users.map((u) => u.id)).execute();
  assert.equal(credited.map((e) => Number(e.amount_mc)), [9_000]);

  const shared = await oneCode(h, '4', 10);
  const user = await makeUser(h.db, h.clock);
  const same = await resultsOf<RedeemResult>(await startTogether('test/workers/promo-worker.ts', 2, () => [h.databaseUrl, shared, [user.id, user.id, user.id].join(',')]));
  assert.equal(same.flatMap((r) => r.errors), []);
  assert.is(same[0]!.credited + same[1]!.credited, 1);
  assert.is((same[0]!.refused.already_redeemed ?? 0) + (same[1]!.refused.already_redeemed ?? 0), 5);
  assert.is(await balanceMc(h as never, user.id), 4_000);
  assert.equal(await audit(h.db), []);
});

promo('audit catches a code redeemed past its limit behind the app\'s back', async ({ h }) => {
  const code = await oneCode(h, '1');
  const [first, second] = [await makeUser(h.db, h.clock), await makeUser(h.db, h.clock)];
  assert.is((await (await browserOf(h, first.id)).post('/credits/redeem', { code })).status, 303);
  const row = await h.db.selectFrom('promo_codes').select(['id']).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const grant = await h.db
    .insertInto('promo_grants')
    .values({ code_id: row.id, user_id: second.id, amount_mc: 1_000, remaining_mc: 0, expires_at_ms: h.clock.now() + DAY_MS, created_at_ms: h.clock.now() })
    .returning('id')
    .executeTakeFirstOrThrow();
  const violations = (await audit(h.db)).map((v) => v.detail);
  assert.ok(violations.some((d) => /redeemed 2 times \(counter 1\) but its limit is 1/.test(d)), violations.join('\n'));
  await h.db.deleteFrom('promo_grants').where('id', '=', grant.id).execute();
  assert.equal(await audit(h.db), []);
});

promo.run();

const refunds = suite('promo credits and refunds');

refunds('a refund after promo spending claws back only the paid credit; the promo credit stays and expires on its own', async () => {
  const t = await stripeWorld();
  try {
    const buyer = await signedInBuyer(t);
    const { sessionId } = await startPurchase(t, buyer);
    t.fake.paySession(sessionId);
    assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
    const lines: string[] = [];
    assert.is(await runCli(['promo:create', '--credits', '5', '--codes', '1', '--redemptions', '1', '--credits-last-days', '7', '--valid-days', '7'], { env: { DATABASE_URL: t.databaseUrl, SQLITE_SYNCHRONOUS: 'normal' }, clock: t.clock, readStdin: async () => '', out: (l) => lines.push(l), err: () => {} }), 0);
    assert.is((await buyer.browser.post('/credits/redeem', { code: lines[0]! })).status, 303);
    // 2,400 mc spent as a call settles (30 gpt-4o output tokens): all of it promo, 2,600 mc left.
    const rate = await rateOf(t.db, 'gpt-4o');
    const hold = await placeHold(t.db, t.clock, { userId: buyer.user.id, apiKeyId: null, requestId: 'req_promo_refund', rate, roundingMode: 'exact', amountMc: 2_400, ttlMs: 600_000 });
    await settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 30 }, status: 'ok', estimated: false, latencyMs: 5 });
    assert.equal(await walletOf(t, buyer.user.id).then((w) => [w.balanceMc, w.promoMc]), [STARTER_MC + 2_600, 2_600]);
    await assertAuditClean(t);
    const chargeId = chargeIdOf(t, sessionId);
    // A quarter refunded, then the rest: each takes its share of the paid credit, never the promo credit.
    assert.is((await deliver(t, t.fake.event('charge.refunded', t.fake.refund(chargeId, 250).charge))).status, 200);
    assert.equal(await walletOf(t, buyer.user.id).then((w) => [w.balanceMc, w.promoMc]), [STARTER_MC * 0.75 + 2_600, 2_600]);
    await assertAuditClean(t);
    assert.is((await deliver(t, t.fake.event('charge.refunded', t.fake.refund(chargeId, 750).charge))).status, 200);
    assert.equal(await walletOf(t, buyer.user.id).then((w) => [w.balanceMc, w.promoMc]), [2_600, 2_600], 'only the promo credit is left');
    const purchase = await purchaseOf(t, sessionId);
    assert.equal([purchase.clawed_back_mc, purchase.shortfall_mc], [STARTER_MC, 0], 'exactly the paid credit clawed back');
    const entries = await entriesOf(t, buyer.user.id);
    assert.equal(entries.map((e) => [e.type, Number(e.amount_mc)]), [['purchase', STARTER_MC], ['promo', 5_000], ['usage', -2_400], ['refund', -2_500_000], ['refund', -7_500_000]]);
    await assertAuditClean(t);
    // The promo credit ends at its time, as any other.
    t.clock.advance(7 * DAY_MS);
    assert.is(await expirePromoGrants(t.db, t.clock), 2_600);
    assert.is(await balanceMc(t, buyer.user.id), 0);
    await assertAuditClean(t);
  } finally {
    await t.stop();
  }
});

refunds.run();
