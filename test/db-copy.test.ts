// `db:copy --to postgres://…`: a SQLite install moved to PostgreSQL row for row (ids, money past 2^32,
// flags, nulls, texts), audit clean there, the app signing the same user in and handing out fresh ids;
// a non-empty target, a PostgreSQL source and a URL that is not postgres:// refused; a copy that fails
// midway leaves the target empty. Runs once, on the SQLite pass: its source is always SQLite, and its
// target a database on the throwaway PostgreSQL server.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import { runCli } from '../src/cli/run.ts';
import { audit } from '../src/audit.ts';
import { createApp } from '../src/app.tsx';
import { createContext } from '../src/context.ts';
import { loadConfig } from '../src/config.ts';
import { createHasher } from '../src/auth/hasher.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold } from '../src/ledger/holds.ts';
import { saveBillingSettings, DEFAULT_MONTHLY_RECHARGE_LIMIT } from '../src/settings/billing-settings.ts';
import { createUser } from '../src/users/users.ts';
import type { DB } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { testApp, Browser, type TestApp } from './helpers/app.ts';
import { cheapCost, rateOf } from './helpers/db.ts';
import { signedInBuyer } from './helpers/billing.ts';
import { newPostgresDatabase, openTestDatabase, sqliteOnly } from './helpers/backend.ts';

const PASSWORD = 'correct horse battery';
/** Past 2^32 millicredits (and far past 2^31), under 2^53. */
const BIG_GRANT_MC = 5_000_000_000_123;

interface Run {
  code: number;
  lines: string[];
  errors: string[];
}

async function dbCopy(sourceUrl: string, args: string[]): Promise<Run> {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await runCli(['db:copy', ...args], { env: { DATABASE_URL: sourceUrl, SQLITE_SYNCHRONOUS: 'normal' }, out: (l) => lines.push(l), err: (l) => errors.push(l) });
  return { code, lines, errors };
}

async function appTables(db: DB): Promise<string[]> {
  return (await db.introspection.getTables()).filter((table) => !table.isView).map((table) => table.name).sort();
}

/** Every row of `table`, each with its keys sorted, the rows in one order whatever the backend's. */
async function rowsOf(db: DB, table: string): Promise<string[]> {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
  return rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b))))).sort();
}

async function rowCounts(db: DB): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await appTables(db)) {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    counts[table] = Number(rows[0]!.n);
  }
  return counts;
}

/** A SQLite install with a bit of everything: a demo purchase and its mail, keys, settled calls, a pending hold, settings, a huge balance. */
async function populatedInstall(t: TestApp) {
  const buyer = await signedInBuyer(t, 'ada@example.com');
  const checkout = await buyer.browser.post('/credits/checkout', { package: 'starter', save_card: 'on' });
  assert.is(checkout.status, 303);
  const paid = await buyer.browser.post(`${new URL(checkout.headers.get('location')!, 'http://localhost:3000').pathname}/pay`, {});
  assert.is(paid.status, 303);
  await buyer.browser.get(paid.headers.get('location')!);
  await grantCredits(t.db, t.clock, { userId: buyer.user.id, amountMc: BIG_GRANT_MC, reason: 'past 2^32', idempotencyKey: 'big-grant' });
  const { key, apiKey } = await createApiKey(t.db, t.clock, buyer.user.id, 'laptop');
  for (let i = 0; i < 3; i++) {
    const answer = await t.fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Hello number ${i}` }], max_tokens: 50 }),
    });
    assert.is(answer.status, 200, await answer.text());
  }
  const hold = await placeHold(t.db, t.clock, { userId: buyer.user.id, apiKeyId: apiKey.id, requestId: 'req_pending_copy', rate: await rateOf(t.db, 'gpt-4o'), roundingMode: 'exact', amountMc: 123_456, ttlMs: 600_000 });
  await saveBillingSettings(t.db, t.clock, buyer.user.id, {
    lowBalanceThresholdMc: 7_000,
    autoRecharge: false,
    autoRechargeThresholdMc: 0,
    autoRechargePackageId: null,
    autoRechargeMonthlyLimit: DEFAULT_MONTHLY_RECHARGE_LIMIT,
    monthlyCapMc: 6_000_000_000_000,
    modelCapsMc: { 'gpt-4o': 9_000_000 },
  });
  await buyer.browser.get('/credits/usage'); // the page's cursor secret (app_settings)
  const other = await createUser(t.db, t.clock, { email: 'bob@example.com', passwordHash: 'x' });
  await grantCredits(t.db, t.clock, { userId: other.id, amountMc: 1_000, reason: 'welcome' });
  return { user: buyer.user, hold };
}

const copy = suite<{ t: TestApp; target: { url: string; drop(): Promise<void> } }>('db:copy');
copy.before.each(async (context) => {
  context.t = await testApp();
  context.target = await newPostgresDatabase();
});
copy.after.each(async ({ t, target }) => {
  await t.close();
  await target.drop();
});

sqliteOnly(copy)('moves every row, keeps ids and money past 2^32 exact, audits clean, and the app on PostgreSQL signs the same user in', async ({ t, target }) => {
  const { user, hold } = await populatedInstall(t);
  const sourceCounts = await rowCounts(t.db);
  for (const table of ['users', 'api_keys', 'sessions', 'purchases', 'usage', 'holds', 'ledger_entries', 'mail_outbox', 'billing_settings', 'model_caps', 'monthly_spend', 'app_settings', 'demo_checkout_sessions']) {
    assert.ok(sourceCounts[table]! > 0, `the source has rows in ${table}`);
  }

  const run = await dbCopy(t.databaseUrl, ['--to', target.url]);
  assert.is(run.code, 0, [...run.errors, ...run.lines].join('\n'));
  assert.is(run.lines.at(-1), 'ok');
  assert.ok(run.lines.includes(`users\t${sourceCounts.users}\t${sourceCounts.users}`), run.lines.join('\n'));
  assert.ok(run.lines.includes(`ledger_entries\t${sourceCounts.ledger_entries}\t${sourceCounts.ledger_entries}`));

  const pg = openTestDatabase(target.url);
  try {
    assert.equal(await appTables(pg), await appTables(t.db));
    for (const table of await appTables(t.db)) assert.equal(await rowsOf(pg, table), await rowsOf(t.db, table), `rows of ${table}`);
    assert.equal(await audit(pg), []);
    const wallet = await pg.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    const sourceWallet = await t.db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    assert.equal(wallet, sourceWallet);
    assert.ok(wallet.balance_mc > BIG_GRANT_MC && wallet.balance_mc < BIG_GRANT_MC + 10_000_000, String(wallet.balance_mc));
    assert.is(wallet.held_mc, 123_456);
    assert.is((await pg.selectFrom('holds').select('status').where('id', '=', hold.id).executeTakeFirstOrThrow()).status, 'pending');

    // The app on the target: the same email and password sign in, a wrong one does not.
    const config = loadConfig({ PORT: '3000', DATABASE_URL: target.url });
    const ctx = createContext(config, { db: pg, clock: t.clock, hasher: createHasher(cheapCost), log: () => {} });
    const app = createApp(ctx);
    const fetcher = (path: string, init: RequestInit = {}, ip = '203.0.113.9') => Promise.resolve(app.request(path, init, { incoming: { socket: { remoteAddress: ip } } } as never));
    const wrong = await new Browser(fetcher, config, '203.0.113.9').post('/login', { email: 'ada@example.com', password: 'not the password' });
    assert.is.not(wrong.status, 303);
    const browser = new Browser(fetcher, config, '203.0.113.9');
    const signedIn = await browser.post('/login', { email: 'ADA@example.com', password: PASSWORD });
    assert.is(signedIn.status, 303);
    const credits = await browser.get('/credits');
    assert.is(credits.doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), String(wallet.balance_mc));

    // New rows get ids after the copied ones (the identity sequences were advanced).
    const maxId = async (table: 'users' | 'ledger_entries' | 'api_keys') => Number((await sql<{ m: number }>`select max(id) as m from ${sql.table(table)}`.execute(t.db)).rows[0]!.m);
    const newcomer = await createUser(pg, t.clock, { email: 'carol@example.com', passwordHash: 'x' });
    assert.is(newcomer.id, (await maxId('users')) + 1);
    const granted = await grantCredits(pg, t.clock, { userId: newcomer.id, amountMc: 5_000, reason: 'after the move' });
    assert.is(granted.entry.id, (await maxId('ledger_entries')) + 1);
    const { apiKey } = await createApiKey(pg, t.clock, newcomer.id, 'new');
    assert.is(apiKey.id, (await maxId('api_keys')) + 1);
    assert.equal(await audit(pg), []);
  } finally {
    await pg.destroy();
  }
});

sqliteOnly(copy)('a target with any row is refused and left as it was', async ({ t, target }) => {
  await populatedInstall(t);
  assert.is((await dbCopy(t.databaseUrl, ['--to', target.url])).code, 0);
  const pg = openTestDatabase(target.url);
  try {
    const before = await rowCounts(pg);
    const again = await dbCopy(t.databaseUrl, ['--to', target.url]);
    assert.is(again.code, 1);
    assert.match(again.errors.join('\n'), /target database is not empty \(rows in .*users/);
    assert.equal(await rowCounts(pg), before);
  } finally {
    await pg.destroy();
  }
  // One row in one table is enough: a migrated database where only a setting was written.
  const lone = await newPostgresDatabase();
  const db = openTestDatabase(lone.url);
  try {
    await migrateToLatest(db);
    await db.insertInto('app_settings').values({ name: 'left-over', value: 'x' }).execute();
    const onlyOne = await rowCounts(db);
    assert.equal(Object.entries(onlyOne).filter(([, n]) => n > 0).map(([table]) => table), ['app_settings']);
    const refused = await dbCopy(t.databaseUrl, ['--to', lone.url]);
    assert.is(refused.code, 1);
    assert.match(refused.errors.join('\n'), /not empty \(rows in app_settings\)/);
    assert.equal(await rowCounts(db), onlyOne);
  } finally {
    await db.destroy();
    await lone.drop();
  }
});

sqliteOnly(copy)('a copy that fails midway leaves the target empty and names the table', async ({ t, target }) => {
  await populatedInstall(t);
  // SQLite keeps a NUL character in a text; PostgreSQL refuses it: the usage table (copied late, after
  // users, holds and the ledger) cannot be copied.
  await sql`update usage set upstream_response_id = 'resp' || char(0)`.execute(t.db);
  const run = await dbCopy(t.databaseUrl, ['--to', target.url]);
  assert.is(run.code, 1);
  assert.match(run.errors.join('\n'), /copying table usage/);
  assert.ok(run.lines.some((line) => /^copied users: \d+ rows$/.test(line)), 'tables before it were copied in the same transaction');
  const pg = openTestDatabase(target.url);
  try {
    assert.equal(Object.values(await rowCounts(pg)).filter((n) => n > 0), []);
  } finally {
    await pg.destroy();
  }
});

sqliteOnly(copy)('refused before connecting: a PostgreSQL source, a --to that is not postgres://, no --to; the password never printed', async ({ t, target }) => {
  const fromPostgres = await dbCopy(target.url, ['--to', target.url]);
  assert.is(fromPostgres.code, 2);
  assert.match(fromPostgres.errors[0]!, /already PostgreSQL/);
  for (const to of ['sqlite:/tmp/x.db', 'mysql://root:s3cret-pw@db/x', '']) {
    const run = await dbCopy(t.databaseUrl, to ? ['--to', to] : []);
    assert.is(run.code, 2);
    assert.match(run.errors[0]!, /--to must be a postgres:\/\//);
    assert.not.match(run.errors.join('\n'), /s3cret/);
  }
});

copy.run();
