// bench:multi's ledger process: hold → settle pairs on one busy wallet, either grouped (the gateway's
// batchers: the pairs asked for in one turn of the event loop share a transaction) or one transaction
// each (placeHold, settleHold). It starts on a line from bench:multi, so its peers start with it.
//   stdin "go grouped|single SECONDS LOOPS" → stdout "done PAIRS FAILURES WRITES COMMITS ROUND_TRIPS [first failure]"
//   (the group commits' writes and transactions so far, both batchers; this run's statements sent to
//   PostgreSQL, 0 on SQLite); "exit".
import { createInterface } from 'node:readline';
import { systemClock } from '../src/clock.ts';
import { loadDatabaseConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { postgresRoundTrips } from '../src/db/postgres.ts';
import type { Rate } from '../src/db/schema.ts';
import { createHoldBatcher } from '../src/ledger/hold-batch.ts';
import { placeHold, settleHold, type CallOutcome } from '../src/ledger/holds.ts';
import { installLedgerPolicy } from '../src/ledger/policy.ts';
import { createSettleBatcher } from '../src/ledger/settle-batch.ts';
import { currentRate } from '../src/pricing/rates.ts';
import { spendingPolicy } from '../src/spending-policy/policy.ts';

// Holds and settles run with the app's policy, as in the server (src/server.ts).
installLedgerPolicy(spendingPolicy);

const [databaseUrl, userIdText, synchronous = 'full'] = process.argv.slice(2) as [string, string, string?];
const userId = Number(userIdText);
const db = openDatabase(loadDatabaseConfig({ DATABASE_URL: databaseUrl, SQLITE_SYNCHRONOUS: synchronous }));
const rate = (await currentRate(db, 'gpt-4o-mini')) as Rate;
const holds = createHoldBatcher(db, systemClock);
const settler = createSettleBatcher(db, systemClock);
const outcome: CallOutcome = { tokens: { inputTokens: 200, cachedInputTokens: 0, outputTokens: 100 }, status: 'ok', estimated: false, latencyMs: 1 };
let made = 0;

async function pair(grouped: boolean): Promise<void> {
  const input = { userId, apiKeyId: null, requestId: `req_bench_${process.pid}_${++made}`, rate, roundingMode: 'exact' as const, ttlMs: 600_000 };
  if (grouped) {
    const hold = await holds.place({ ...input, amountFor: () => 200_000 });
    await settler.settle(hold.id, outcome, hold);
  } else {
    const hold = await placeHold(db, systemClock, { ...input, amountMc: 200_000 });
    await settleHold(db, systemClock, hold.id, outcome);
  }
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const [command, mode, secondsText, loopsText] = line.split(' ');
  if (command === 'exit') {
    await db.destroy();
    process.exit(0);
  }
  if (command !== 'go') return;
  const untilMs = performance.now() + Number(secondsText) * 1000;
  const roundTripsBefore = postgresRoundTrips();
  let pairs = 0;
  let failures = 0;
  let firstFailure = '';
  await Promise.all(
    Array.from({ length: Number(loopsText) }, async () => {
      while (performance.now() < untilMs) {
        try {
          await pair(mode === 'grouped');
          pairs++;
        } catch (error) {
          failures++;
          firstFailure ||= (error as Error).message;
        }
      }
    }),
  );
  const writes = holds.stats.writes + settler.stats.writes;
  const commits = holds.stats.commits + settler.stats.commits;
  console.log(`done ${pairs} ${failures} ${writes} ${commits} ${postgresRoundTrips() - roundTripsBefore} ${firstFailure}`.trim());
});
console.log('ready');
