// A fresh, migrated and seeded database per test — a SQLite file, or with TEST_BACKEND=postgres a
// PostgreSQL database copied from a migrated template (./postgres.ts) — users with cheap password
// hashes, and rates.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, type Clock } from '../../src/clock.ts';
import { openDatabase, type DB } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { audit } from '../../src/audit.ts';
import type { SqliteSynchronous } from '../../src/config.ts';
import { seedDefaults } from '../../src/seed.ts';
import { createUser } from '../../src/users/users.ts';
import { hashPassword } from '../../src/auth/password.ts';
import { currentRate } from '../../src/pricing/rates.ts';
import type { Rate } from '../../src/db/schema.ts';
import { installLedgerPolicy } from '../../src/ledger/policy.ts';
import { spendingPolicy } from '../../src/spending-policy/policy.ts';
import { createDatabase, testServerUrl, uniqueDatabaseName } from './postgres.ts';
import { TEST_BACKEND, newPostgresDatabase, openTestDatabase, rememberDatabase } from './backend.ts';

// Every test that opens a database writes through the ledger as the app does (src/server.ts).
installLedgerPolicy(spendingPolicy);

/** 2026-11-26T12:00:00Z: a fixed start so month boundaries in tests are predictable. */
export const START_MS = Date.UTC(2026, 10, 26, 12, 0, 0);

export interface TestDb {
  db: DB;
  /** Its DATABASE_URL, for a CLI run, a server process or a worker on the same database. */
  databaseUrl: string;
  /** A temporary folder of the test's own (SQLite's file lives in it). */
  dir: string;
  clock: ManualClock;
  close(): Promise<void>;
}

let ownTemplate: Promise<string> | null = null;

/**
 * The migrated and seeded database each test's is copied from (CREATE DATABASE … TEMPLATE, far
 * quicker than migrating each): test/run.mjs makes one per run (TEST_PG_TEMPLATE); a test file run
 * on its own makes its own.
 */
export function postgresTemplate(): Promise<string> {
  const given = process.env.TEST_PG_TEMPLATE?.trim();
  if (given) return Promise.resolve(given);
  ownTemplate ??= testServerUrl().then((server) => makeTemplate(server, uniqueDatabaseName('tpl')));
  return ownTemplate;
}

/** Creates `name` on the server, migrated and seeded as freshDb's databases are; no connection to it is left open. */
export async function makeTemplate(serverUrl: string, name: string): Promise<string> {
  const url = await createDatabase(serverUrl, name);
  if (!process.env.TEST_PG_TEMPLATE) rememberDatabase(name);
  const db = openTestDatabase(url);
  try {
    await migrateToLatest(db);
    await seedDefaults(db, new ManualClock(START_MS));
  } finally {
    await db.destroy();
  }
  return name;
}

export async function freshDb(synchronous: SqliteSynchronous = 'normal'): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-test-'));
  const clock = new ManualClock(START_MS);
  if (TEST_BACKEND === 'postgres') {
    const database = await newPostgresDatabase(await postgresTemplate());
    const db = openTestDatabase(database.url);
    return {
      db,
      databaseUrl: database.url,
      dir,
      clock,
      async close() {
        await db.destroy();
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const path = join(dir, 'test.db');
  const db = openDatabase({ backend: 'sqlite', path, synchronous });
  await migrateToLatest(db);
  await seedDefaults(db, clock);
  return {
    db,
    databaseUrl: `sqlite:${path}`,
    dir,
    clock,
    async close() {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const cheapCost = { ln: 4, r: 8, p: 1 };

let counter = 0;
export async function makeUser(db: DB, clock: Clock, email = `user${++counter}@example.com`) {
  return createUser(db, clock, { email, passwordHash: await hashPassword('correct horse', cheapCost) });
}

export async function rateOf(db: DB, model: string): Promise<Rate> {
  const rate = await currentRate(db, model);
  if (!rate) throw new Error(`no rate for ${model}`);
  return rate;
}

/** The ledger's audit of the database a running server writes to (read through a second connection). */
export async function auditUrl(url: string): Promise<string[]> {
  const db = openTestDatabase(url);
  try {
    return (await audit(db)).map((violation) => JSON.stringify(violation));
  } finally {
    await db.destroy();
  }
}
