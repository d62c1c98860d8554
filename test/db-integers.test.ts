// 64-bit integers on both backends: money past 2^32 and its sums read back exactly as numbers; on
// PostgreSQL a value past 2^53 is refused when read rather than rounded (src/db/postgres.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sql } from 'kysely';
import { grantCredits } from '../src/ledger/credits.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { audit } from '../src/audit.ts';
import { parseSafeNumber } from '../src/db/postgres.ts';
import { numberPlaceholders } from '../src/db/raw.ts';
import { rejects } from './helpers/assert.ts';
import { TEST_BACKEND } from './helpers/backend.ts';
import { freshDb, makeUser } from './helpers/db.ts';

const PAST_2_32 = 3_000_000_000_123; // mc: 3 billion credits and change, well past 2^32

test('amounts past 2^32, their sums and counts read back as exact numbers', async () => {
  const t = await freshDb();
  try {
    const user = await makeUser(t.db, t.clock);
    for (let i = 0; i < 3; i++) await grantCredits(t.db, t.clock, { userId: user.id, amountMc: PAST_2_32 + i, reason: `big ${i}` });
    const wallet = await walletSummary(t.db, user.id);
    assert.is(wallet.balanceMc, 3 * PAST_2_32 + 3);
    assert.is(typeof wallet.balanceMc, 'number');
    const row = await t.db.selectFrom('ledger_entries').select(['amount_mc', 'balance_after_mc', 'id', 'created_at_ms']).where('user_id', '=', user.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.is(row.amount_mc, PAST_2_32 + 2);
    assert.is(row.balance_after_mc, 3 * PAST_2_32 + 3);
    assert.is(typeof row.id, 'number');
    assert.is(typeof row.created_at_ms, 'number');
    const { rows } = await sql<{ total: number; n: number; most: number }>`
      select sum(amount_mc) as total, count(*) as n, max(amount_mc) as most from ledger_entries where user_id = ${user.id}`.execute(t.db);
    assert.equal(rows[0], { total: 3 * PAST_2_32 + 3, n: 3, most: PAST_2_32 + 2 });
    assert.equal(await audit(t.db), []);
  } finally {
    await t.close();
  }
});

test('the largest safe integer reads back exactly; past it PostgreSQL refuses to read (SQLite rounds: the app never writes one)', async () => {
  const t = await freshDb();
  try {
    await sql`create table big_numbers (value bigint not null)`.execute(t.db);
    await sql`insert into big_numbers (value) values (${Number.MAX_SAFE_INTEGER}), (${-Number.MAX_SAFE_INTEGER})`.execute(t.db);
    const { rows } = await sql<{ value: number }>`select value from big_numbers order by value desc`.execute(t.db);
    assert.equal(rows.map((r) => r.value), [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
    if (TEST_BACKEND === 'postgres') {
      await sql`insert into big_numbers (value) values (9007199254740993)`.execute(t.db);
      await rejects(() => sql`select value from big_numbers where value > 0 order by value desc`.execute(t.db), /9007199254740993.*beyond what a JavaScript number holds exactly/);
      await sql`delete from big_numbers where value = 9007199254740993`.execute(t.db);
      // Each value is safe, their sum is not.
      await rejects(() => sql`select sum(value) + 2 as total from big_numbers where value > 0`.execute(t.db), /beyond what a JavaScript number holds exactly/);
    }
  } finally {
    await t.close();
  }
});

test('int8 and numeric text: exact up to ±(2^53 − 1), refused past it', () => {
  assert.is(parseSafeNumber('4294967297'), 4_294_967_297);
  assert.is(parseSafeNumber('-9007199254740991'), -Number.MAX_SAFE_INTEGER);
  assert.is(parseSafeNumber('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.is(parseSafeNumber('12.5'), 12.5);
  assert.throws(() => parseSafeNumber('9007199254740992'), /beyond/);
  assert.throws(() => parseSafeNumber('-9007199254740993'), /beyond/);
  assert.throws(() => parseSafeNumber('NaN'), /beyond/);
});

test('? placeholders are numbered for PostgreSQL, never inside quotes', () => {
  assert.is(numberPlaceholders('update t set a = ?, b = ? where c = ?'), 'update t set a = $1, b = $2 where c = $3');
  assert.is(numberPlaceholders("select '?' as q, \"a?\" from t where x = ? and y = 'it''s ?'"), "select '?' as q, \"a?\" from t where x = $1 and y = 'it''s ?'");
});

test.run();
