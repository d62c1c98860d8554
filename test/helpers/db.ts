// A fresh, migrated and seeded SQLite file per test, users with cheap password hashes, and rates.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.ts';
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

// Every test that opens a database writes through the ledger as the app does (src/server.ts).
installLedgerPolicy(spendingPolicy);

/** 2026-11-26T12:00:00Z: a fixed start so month boundaries in tests are predictable. */
export const START_MS = Date.UTC(2026, 10, 26, 12, 0, 0);

export interface TestDb {
  db: DB;
  path: string;
  dir: string;
  clock: ManualClock;
  close(): Promise<void>;
}

export async function freshDb(synchronous: SqliteSynchronous = 'normal'): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-test-'));
  const path = join(dir, 'test.db');
  const db = openDatabase(path, synchronous);
  const clock = new ManualClock(START_MS);
  await migrateToLatest(db);
  await seedDefaults(db, clock);
  return {
    db,
    path,
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
export async function makeUser(db: DB, clock: ManualClock, email = `user${++counter}@example.com`) {
  return createUser(db, clock, { email, passwordHash: await hashPassword('correct horse', cheapCost) });
}

export async function rateOf(db: DB, model: string): Promise<Rate> {
  const rate = await currentRate(db, model);
  if (!rate) throw new Error(`no rate for ${model}`);
  return rate;
}

/** The ledger's audit of a database file a running server writes to (read through a second connection). */
export async function auditFile(path: string): Promise<string[]> {
  const db = openDatabase(path, 'normal');
  try {
    return (await audit(db)).map((violation) => JSON.stringify(violation));
  } finally {
    await db.destroy();
  }
}
