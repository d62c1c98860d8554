// A separate OS process that writes to the same database as the test: it says "ready", waits for
// "go" on stdin so both racers start together, runs one scenario and prints its result as JSON.
//   race-holds DATABASE_URL USER_ID ATTEMPTS AMOUNT_MC [unsafe]   place ATTEMPTS holds at once
//   cycles DATABASE_URL USER_ID CYCLES LOOPS [slow-call]       grant + hold + (pause) + settle, LOOPS at a time;
//                                                              slow-call: one more call whose upstream never answers
//                                                              (its hold placed, then "slow call held" printed)
import { createInterface } from 'node:readline';
import { systemClock } from '../../src/clock.ts';
import type { DB } from '../../src/db/connect.ts';
import { openTestDatabase } from '../helpers/backend.ts';
import { grantCredits } from '../../src/ledger/credits.ts';
import { InsufficientCreditsError } from '../../src/ledger/errors.ts';
import { placeHold, settleHold } from '../../src/ledger/holds.ts';
import { currentRate } from '../../src/pricing/rates.ts';
import type { Rate } from '../../src/db/schema.ts';
import { installLedgerPolicy } from '../../src/ledger/policy.ts';
import { spendingPolicy } from '../../src/spending-policy/policy.ts';

installLedgerPolicy(spendingPolicy);

const [scenario, url, userIdText, countText, fourth, fifth] = process.argv.slice(2);
const userId = Number(userIdText);
const db = openTestDatabase(url!);
const rate = (await currentRate(db, 'gpt-4o-mini')) as Rate;
const tag = `${process.pid}`;

/** The broken way, kept only here as the negative control: read the balance, then write an absolute value. */
async function unsafeHold(db: DB, amountMc: number, requestId: string): Promise<void> {
  const wallet = await db.selectFrom('wallets').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
  await new Promise((resolve) => setImmediate(resolve));
  if (wallet.balance_mc - wallet.held_mc < amountMc) throw new InsufficientCreditsError(amountMc, wallet.balance_mc - wallet.held_mc, wallet.held_mc);
  await db.updateTable('wallets').set({ held_mc: wallet.held_mc + amountMc }).where('user_id', '=', userId).execute();
  await db
    .insertInto('holds')
    .values({ user_id: userId, api_key_id: null, request_id: requestId, model: rate.model, rate_id: rate.id, amount_mc: amountMc, input_mc_per_1k: rate.input_mc_per_1k, cached_input_mc_per_1k: rate.cached_input_mc_per_1k, output_mc_per_1k: rate.output_mc_per_1k, rounding_mode: 'exact', status: 'pending', created_at_ms: Date.now(), expires_at_ms: Date.now() + 600_000, ended_at_ms: null })
    .execute();
}

async function raceHolds(attempts: number, amountMc: number, unsafe: boolean) {
  const outcomes = await Promise.allSettled(
    Array.from({ length: attempts }, (_, i) => {
      const requestId = `race_${tag}_${i}`;
      return unsafe
        ? unsafeHold(db, amountMc, requestId)
        : placeHold(db, systemClock, { userId, apiKeyId: null, requestId, rate, roundingMode: 'exact', amountMc, ttlMs: 600_000 });
    }),
  );
  const errors = outcomes.filter((o) => o.status === 'rejected' && !(o.reason instanceof InsufficientCreditsError));
  return {
    succeeded: outcomes.filter((o) => o.status === 'fulfilled').length,
    refused: outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof InsufficientCreditsError).length,
    errors: errors.map((o) => String((o as PromiseRejectedResult).reason)),
  };
}

async function cycles(total: number, loops: number) {
  let done = 0;
  let next = 0;
  async function loop() {
    while (next < total) {
      const i = next++;
      await grantCredits(db, systemClock, { userId, amountMc: 1_000, reason: `cycle ${tag} ${i}` });
      const hold = await placeHold(db, systemClock, { userId, apiKeyId: null, requestId: `cycle_${tag}_${i}`, rate, roundingMode: 'exact', amountMc: 500, ttlMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 1)); // the upstream call
      await settleHold(db, systemClock, hold.id, { tokens: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10 }, status: 'ok', estimated: false, latencyMs: 1 });
      done++;
      if (done % 50 === 0) console.log(`progress ${done}`);
    }
  }
  // A call whose upstream never answers: its hold stays pending for as long as the process lives.
  async function slowCall() {
    await grantCredits(db, systemClock, { userId, amountMc: 1_000, reason: `slow call ${tag}` });
    await placeHold(db, systemClock, { userId, apiKeyId: null, requestId: `slow_${tag}`, rate, roundingMode: 'exact', amountMc: 500, ttlMs: 60_000 });
    console.log('slow call held');
    await new Promise(() => {});
  }
  if (fifth === 'slow-call') void slowCall();
  await Promise.all(Array.from({ length: loops }, loop));
  return { done };
}

console.log('ready');
const input = createInterface({ input: process.stdin });
for await (const line of input) if (line.trim() === 'go') break;
input.close();

const result =
  scenario === 'race-holds'
    ? await raceHolds(Number(countText), Number(fourth), fifth === 'unsafe')
    : await cycles(Number(countText), Number(fourth ?? 1));
console.log(`result ${JSON.stringify(result)}`);
await db.destroy();
