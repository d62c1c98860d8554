// bench:ledger — charges per second done the way the gateway does them (hold in one transaction,
// settle in another), against raw better-sqlite3 one-row insert transactions at the same
// `synchronous` setting, measured in the same run. Goal: ratio ≥ 0.2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteSynchronous } from '../src/config.ts';
import { systemClock } from '../src/clock.ts';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { currentRate } from '../src/pricing/rates.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import type { Rate } from '../src/db/schema.ts';
import { installLedgerPolicy } from '../src/ledger/policy.ts';
import { spendingPolicy } from '../src/spending-policy/policy.ts';
import { appendResults, machine } from './machine.ts';

// Holds and settles run with the app's policy, as in the server (src/server.ts).
installLedgerPolicy(spendingPolicy);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

function rawInsertsPerSecond(dir: string, synchronous: SqliteSynchronous): number {
  const sqlite = new BetterSqlite3(join(dir, `raw-${synchronous}.db`));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.exec('create table t (id integer primary key, user_id integer not null, amount_mc integer not null, created_at_ms integer not null)');
  const insert = sqlite.prepare('insert into t (user_id, amount_mc, created_at_ms) values (?, ?, ?)');
  const begin = sqlite.prepare('begin immediate');
  const commit = sqlite.prepare('commit');
  const until = performance.now() + SECONDS * 1000;
  let count = 0;
  const started = performance.now();
  while (performance.now() < until) {
    begin.run();
    insert.run(1, -120, Date.now());
    commit.run();
    count++;
  }
  const rate = count / ((performance.now() - started) / 1000);
  sqlite.close();
  return rate;
}

async function chargesPerSecond(dir: string, synchronous: SqliteSynchronous): Promise<number> {
  const db = openSqlite(join(dir, `ledger-${synchronous}.db`), synchronous);
  await migrateToLatest(db);
  await seedDefaults(db, systemClock);
  const user = await createUser(db, systemClock, { email: `bench-${synchronous}@example.com`, passwordHash: 'x' });
  await grantCredits(db, systemClock, { userId: user.id, amountMc: 1_000_000_000_000, reason: 'bench' });
  const rate = (await currentRate(db, 'gpt-4o-mini')) as Rate;
  const until = performance.now() + SECONDS * 1000;
  let count = 0;
  const started = performance.now();
  while (performance.now() < until) {
    const hold = await placeHold(db, systemClock, { userId: user.id, apiKeyId: null, requestId: `bench_${count}`, rate, roundingMode: 'exact', amountMc: 200_000, ttlMs: 600_000 });
    await settleHold(db, systemClock, hold.id, { tokens: { inputTokens: 200, cachedInputTokens: 0, outputTokens: 100 }, status: 'ok', estimated: false, latencyMs: 1 });
    count++;
  }
  const rate_ = count / ((performance.now() - started) / 1000);
  await db.destroy();
  return rate_;
}

const dir = mkdtempSync(join(tmpdir(), 'tokentab-bench-'));
const lines = ['| synchronous | raw insert tx/s | charges/s (hold tx + settle tx) | ratio | goal |', '|---|---|---|---|---|'];
console.log(`bench:ledger on ${machine()}, ${SECONDS} s per measurement`);
try {
  for (const synchronous of ['full', 'normal'] as const) {
    const raw = rawInsertsPerSecond(dir, synchronous);
    const charges = await chargesPerSecond(dir, synchronous);
    const ratio = charges / raw;
    console.log(`${synchronous}: raw ${raw.toFixed(0)} tx/s, charges ${charges.toFixed(0)}/s, ratio ${ratio.toFixed(2)} (goal ≥ 0.2)`);
    lines.push(`| ${synchronous} | ${raw.toFixed(0)} | ${charges.toFixed(0)} | ${ratio.toFixed(2)} | ≥ 0.2 ${ratio >= 0.2 ? 'met' : 'NOT met'} |`);
  }
  appendResults('bench:ledger', lines);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
