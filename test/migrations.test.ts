// Migrations on a database made by an earlier build: 0009 gives an existing rate card the embedding
// models once, while a new install gets them from the seed with the chat models (and only once, also
// when several processes start at once on a new PostgreSQL database).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { migrations } from '../migrations/index.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { currentRates } from '../src/pricing/rates.ts';
import { ManualClock } from '../src/clock.ts';
import { emptyDatabaseUrl, openTestDatabase, TEST_BACKEND } from './helpers/backend.ts';
import { killAll, startWorker } from './helpers/processes.ts';

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

/** The migrations kysely has recorded as applied, by name. */
async function applied(db: DB): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((row) => row.name);
}

// On PostgreSQL a start migrates under an advisory lock that its migration transaction takes first
// and that ends with it (src/db/migrate.ts), so starts behind a transaction-mode pooler are kept apart too.
if (TEST_BACKEND === 'postgres') test('three processes migrating an empty database at once end with one schema, each migration applied once', async () => {
  try {
    for (let round = 0; round < 3; round++) {
      await withDatabase(async (db, url) => {
        const workers = [0, 1, 2].map(() => startWorker('test/workers/migrate-worker.ts', [url]));
        await Promise.all(workers.map((worker) => worker.waitFor('ready')));
        for (const worker of workers) worker.child.stdin!.write('go\n');
        const outcomes = await Promise.all(workers.map((worker) => worker.waitFor('migrated').then(() => 'migrated', () => worker.lines.join(' '))));
        assert.equal(outcomes, ['migrated', 'migrated', 'migrated'], `round ${round}`);
        assert.equal(await applied(db), Object.keys(migrations).sort());
        // The last migration's work is there: the schema is whole.
        await seedDefaults(db, new ManualClock(1));
        assert.is((await kinds(db)).length, 4);
      });
    }
  } finally {
    killAll();
  }
});

if (TEST_BACKEND === 'postgres') test('the migration lock is taken inside the migration transaction and ends with it: no session-level lock', async () => {
  await withDatabase(async (db, url) => {
    // This test's own transaction holds the key: the migration must wait for it inside its transaction.
    const holder = openTestDatabase(url, 1);
    const other = openTestDatabase(url, 1);
    try {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const holderDone = holder.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(3853314791062309107)`.execute(trx);
        holding();
        await released;
      });
      await held;
      const migrating = migrateToLatest(other);
      // Wait until the migration waits on the lock; see how it asks for it.
      let waiting: { query: string; in_transaction: boolean } | undefined;
      for (let i = 0; i < 100 && !waiting; i++) {
        const { rows } = await sql<{ query: string; in_transaction: boolean }>`
          select query, xact_start is not null as in_transaction from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`.execute(db);
        waiting = rows[0];
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(waiting, 'the migration waits on the advisory lock');
      assert.match(waiting!.query, /pg_advisory_xact_lock/);
      assert.ok(waiting!.in_transaction);
      // Nothing was applied while the lock was held elsewhere (the tables kysely keeps may exist).
      assert.equal(await applied(db), []);
      release();
      await holderDone;
      await migrating;
      assert.equal(await applied(db), Object.keys(migrations).sort());
      const { rows } = await sql<{ n: number }>`select count(*) as n from pg_locks where locktype = 'advisory'`.execute(db);
      assert.is(Number(rows[0]!.n), 0, 'no advisory lock left once the migration committed');
    } finally {
      await holder.destroy();
      await other.destroy();
    }
  });
});

test.run();
