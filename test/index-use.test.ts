// Every index a settle writes on the usage and ledger tables earns its place: each non-unique one is the
// one SQLite's planner picks for a query the app runs (EXPLAIN QUERY PLAN of the real query builders),
// and the tables have no index beyond those and their UNIQUE constraints. An index added without a
// query here, or a query that stops using its index, fails (docs/architecture.md, Where a call's time goes).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Compilable } from 'kysely';
import { rawSqlite } from '../src/db/connect.ts';
import { keysetQuery } from '../src/db/keyset.ts';
import { ledgerQuery } from '../src/ledger/ledger-queries.ts';
import { usageQuery, type UsageSelection } from '../src/usage/usage-queries.ts';
import { sqliteOnly } from './helpers/backend.ts';
import { freshDb, type TestDb } from './helpers/db.ts';

const indexes = suite<{ t: TestDb }>('index use (SQLite)');
indexes.before.each(async (context) => {
  context.t = await freshDb();
});
indexes.after.each(async ({ t }) => t.close());

/** The indexes SQLite's plan for `query` reads. */
function indexesUsed(t: TestDb, query: Compilable): string[] {
  const { sql, parameters } = query.compile();
  const plan = rawSqlite(t.db).prepare(`explain query plan ${sql}`).all(...(parameters as unknown[])) as { detail: string }[];
  return plan.flatMap((step) => [...step.detail.matchAll(/USING (?:COVERING )?INDEX (\w+)/g)].map((match) => match[1]!));
}

const NO_FILTER: UsageSelection = { model: null, key: null, fromMs: null, untilMs: null };
const CURSOR = { direction: 'older' as const, createdAtMs: 1_800_000_000_000, id: 99 };

sqliteOnly(indexes)('each non-unique usage and ledger index is the one a Credits tab query (page, next page, CSV) reads', ({ t }) => {
  const used = new Map<string, string[]>();
  const note = (what: string, query: Compilable) => {
    for (const name of indexesUsed(t, query)) used.set(name, [...(used.get(name) ?? []), what]);
    return indexesUsed(t, query);
  };
  const usagePages = [
    ['usage, no filter', NO_FILTER, 'usage_user_created'],
    ['usage by model', { ...NO_FILTER, model: 'gpt-4o' }, 'usage_user_model_created'],
    ['usage by key', { ...NO_FILTER, key: { kind: 'key', id: 3 } }, 'usage_user_key_created'],
    ['usage by date', { ...NO_FILTER, fromMs: 1, untilMs: 2 }, 'usage_user_created'],
  ] as const;
  for (const [what, filters, index] of usagePages) {
    assert.equal(note(what, keysetQuery(usageQuery(t.db, 1, filters), null, 25)), [index], what);
    assert.equal(note(`${what}, next page`, keysetQuery(usageQuery(t.db, 1, filters), CURSOR, 25)), [index], `${what}, next page`);
  }
  const ledgerPages = [
    ['ledger, no filter', { type: null, fromMs: null, untilMs: null }, 'ledger_entries_user_created'],
    ['ledger by type', { type: 'usage', fromMs: null, untilMs: null }, 'ledger_entries_user_type_created'],
  ] as const;
  for (const [what, filters, index] of ledgerPages) {
    assert.equal(note(what, keysetQuery(ledgerQuery(t.db, 1, filters), null, 25)), [index], what);
    assert.equal(note(`${what}, next page`, keysetQuery(ledgerQuery(t.db, 1, filters), CURSOR, 25)), [index], `${what}, next page`);
  }

  // Nothing else on the two tables: the indexes above and the UNIQUE constraints' own (usage.request_id,
  // ledger_entries.idempotency_key), which a settle's insert checks anyway.
  const all = rawSqlite(t.db).prepare(`select name, tbl_name from sqlite_master where type = 'index' and tbl_name in ('usage', 'ledger_entries') order by name`).all() as { name: string }[];
  const declared = all.map((row) => row.name).filter((name) => !name.startsWith('sqlite_autoindex_'));
  assert.equal(declared, [...used.keys()].sort(), 'every declared index is read by a query above, and no other exists');
  assert.is(all.length - declared.length, 2, 'two UNIQUE constraints: usage.request_id, ledger_entries.idempotency_key');
});

indexes.run();
