// Migrations on a database made by an earlier build: 0009 gives an existing rate card the embedding
// models once, while a new install gets them from the seed with the chat models (and only once, also
// when several processes start at once on a new PostgreSQL database).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { migrations } from '../migrations/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { currentRates } from '../src/pricing/rates.ts';
import { ManualClock } from '../src/clock.ts';
import { emptyDatabaseUrl, openTestDatabase, TEST_BACKEND } from './helpers/backend.ts';

const test = suite('migrations');
type DB = Parameters<typeof currentRates>[0];
const kinds = async (db: DB) => (await currentRates(db)).map((r) => [r.model, r.kind, r.version]);

/** A database file in a folder of its own, removed after `work`. */
async function withDatabase(work: (db: DB, url: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-migrations-'));
  // An empty database on either backend: the migrations run on both.
  const url = await emptyDatabaseUrl(dir, 'test.db');
  const db = openTestDatabase(url);
  try {
    await work(db, url);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a rate card made before 0009 gets the embedding models as chat models keep their kind; a second start adds nothing', async () => {
  await withDatabase(async (db) => {
    const before = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const upTo8 = await before.migrateTo('0008_rate_limit_events');
    assert.not.ok(upTo8.error);
    await db
      .insertInto('rates')
      .values({ model: 'gpt-4o-mini', version: 1, label: 'Eco', input_mc_per_1k: 2_400, cached_input_mc_per_1k: 1_200, output_mc_per_1k: 9_600, max_output_tokens: 16_384, created_at_ms: 1 } as never)
      .execute();
    await migrateToLatest(db);
    await seedDefaults(db, new ManualClock(2));
    await migrateToLatest(db);
    assert.equal(await kinds(db), [
      ['gpt-4o-mini', 'chat', 1],
      ['text-embedding-3-large', 'embeddings', 1],
      ['text-embedding-3-small', 'embeddings', 1],
    ]);
  });
});

test('a new install gets the chat and embedding models from the seed, once', async () => {
  await withDatabase(async (db) => {
    await migrateToLatest(db);
    await seedDefaults(db, new ManualClock(1));
    await seedDefaults(db, new ManualClock(2));
    assert.equal(await kinds(db), [
      ['gpt-4o', 'chat', 1],
      ['gpt-4o-mini', 'chat', 1],
      ['text-embedding-3-large', 'embeddings', 1],
      ['text-embedding-3-small', 'embeddings', 1],
    ]);
  });
});

// PostgreSQL only: there, transactions run side by side, so each start could see the tables empty. On
// SQLite, starts serialize on BEGIN IMMEDIATE (test/concurrency.test.ts races real processes), and three
// connections in one process cannot stand for three processes: better-sqlite3 waits for a lock by
// blocking the thread that holds it.
if (TEST_BACKEND === 'postgres') test('several processes starting at once on an empty database seed it once', async () => {
  // Each round: a new database, migrated, then seeded by three connections at once (three pools, as
  // three server processes starting together: each checks the tables are empty, then fills them).
  for (let round = 0; round < 8; round++) {
    await withDatabase(async (db, url) => {
      await migrateToLatest(db);
      const starts = [openTestDatabase(url), openTestDatabase(url), openTestDatabase(url)];
      try {
        const results = await Promise.allSettled(starts.map((start, i) => seedDefaults(start, new ManualClock(i + 1))));
        assert.equal(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'seeded')), ['seeded', 'seeded', 'seeded'], `round ${round}`);
      } finally {
        for (const start of starts) await start.destroy();
      }
      assert.is((await kinds(db)).length, 4);
      assert.is((await db.selectFrom('packages').select('id').execute()).length, 4);
    });
  }
});

test.run();
