// A separate OS process with a pool of 8 connections (on PostgreSQL; SQLite has its one) racing other
// such processes on one database: it says "ready", waits for "go" on stdin so all start together, runs
// one scenario and prints its result as JSON.
//   holds DATABASE_URL USER_ID ATTEMPTS AMOUNT_MC       place ATTEMPTS holds at once, half alone, half grouped
//   end DATABASE_URL START_MS INDEX HOLD_ID,…           end every hold by settle (grouped or alone) or void,
//                                                       with the sweeper running, on a clock from START_MS
import { createInterface } from 'node:readline';
import type { Clock } from '../../src/clock.ts';
import { systemClock } from '../../src/clock.ts';
import { openTestDatabase } from '../helpers/backend.ts';
import { seededRandom } from '../helpers/random.ts';
import { HoldAlreadyEndedError, InsufficientCreditsError } from '../../src/ledger/errors.ts';
import { createHoldBatcher } from '../../src/ledger/hold-batch.ts';
import { expireHolds, placeHold, settleHold, voidHold, type CallOutcome } from '../../src/ledger/holds.ts';
import { createSettleBatcher } from '../../src/ledger/settle-batch.ts';
import { currentRate } from '../../src/pricing/rates.ts';
import type { Rate } from '../../src/db/schema.ts';
import { installLedgerPolicy } from '../../src/ledger/policy.ts';
import { spendingPolicy } from '../../src/spending-policy/policy.ts';

installLedgerPolicy(spendingPolicy);

const POOL_SIZE = 8;
const [scenario, url, ...args] = process.argv.slice(2);
const db = openTestDatabase(url!, POOL_SIZE);
const tag = `${process.pid}`;

/** Runs `work` over `items` with at most `width` at once, as a server's concurrent requests would. */
async function eachAtMost<T>(items: T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

async function holds(userId: number, attempts: number, amountMc: number) {
  const rate = (await currentRate(db, 'gpt-4o-mini')) as Rate;
  // Grouped holds: never "alone", so a turn's holds share a transaction (and its lock of the wallet).
  const batcher = createHoldBatcher(db, systemClock, { alone: () => false });
  const result = { succeeded: 0, refused: 0, errors: [] as string[] };
  await eachAtMost(Array.from({ length: attempts }, (_, i) => i), POOL_SIZE * 2, async (i) => {
    const input = { userId, apiKeyId: null, requestId: `pool_${tag}_${i}`, rate, roundingMode: 'exact' as const, amountMc, ttlMs: 600_000 };
    try {
      if (i % 2 === 0) await placeHold(db, systemClock, input);
      else await batcher.place({ ...input, amountFor: () => amountMc });
      result.succeeded++;
    } catch (error) {
      if (error instanceof InsufficientCreditsError) result.refused++;
      else result.errors.push(String(error));
    }
  });
  return result;
}

/** `items` in an order fixed by `seed` (Fisher–Yates). */
function shuffled<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

type Ending = 'settled' | 'voided' | 'ended';

async function end(startMs: number, index: number, holdIds: number[]) {
  // The test's clock runs on from START_MS at real speed: holds fall due while they are being ended.
  const began = Date.now();
  const clock: Clock = { now: () => startMs + (Date.now() - began) };
  const settler = createSettleBatcher(db, clock, { alone: () => false });
  const outcome: CallOutcome = { tokens: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10 }, status: 'ok', estimated: false, latencyMs: 1 };
  const endings: Record<number, Ending> = {};
  const errors: string[] = [];
  let expired = 0;
  let done = false;
  const sweeper = (async () => {
    while (!done) {
      expired += await expireHolds(db, clock, 20);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  })();
  // Each process takes the holds in its own order, and ends each its own way.
  const order = shuffled(holdIds, index + 1);
  await eachAtMost(order, POOL_SIZE, async (holdId) => {
    try {
      const way = (holdId + index) % 3;
      if (way === 0) endings[holdId] = (await settler.settle(holdId, outcome), 'settled');
      else if (way === 1) endings[holdId] = (await settleHold(db, clock, holdId, outcome), 'settled');
      else endings[holdId] = (await voidHold(db, clock, holdId)) ? 'voided' : 'ended';
    } catch (error) {
      if (error instanceof HoldAlreadyEndedError) endings[holdId] = 'ended';
      else errors.push(`${holdId}: ${String(error)}`);
    }
  });
  done = true;
  await sweeper;
  return { endings, expired, errors };
}

console.log('ready');
const input = createInterface({ input: process.stdin });
for await (const line of input) if (line.trim() === 'go') break;
input.close();

const result =
  scenario === 'holds'
    ? await holds(Number(args[0]), Number(args[1]), Number(args[2]))
    : await end(Number(args[0]), Number(args[1]), args[2]!.split(',').map(Number));
console.log(`result ${JSON.stringify(result)}`);
await db.destroy();
