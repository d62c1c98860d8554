// A separate OS process redeeming promo codes in the same database as the test: it says "ready",
// waits for "go" on stdin so every racer starts together, redeems, and prints its result as JSON.
//   DATABASE_URL CODE USER_ID,USER_ID,…   redeems CODE once for each user id listed (a repeated id: again), all at once
import { createInterface } from 'node:readline';
import { systemClock } from '../../src/clock.ts';
import { openTestDatabase } from '../helpers/backend.ts';
import { PromoCodeRefusedError, redeemPromoCode } from '../../src/promo/codes.ts';
import { installLedgerPolicy } from '../../src/ledger/policy.ts';
import { spendingPolicy } from '../../src/spending-policy/policy.ts';

installLedgerPolicy(spendingPolicy);

const [url, code, userIdsText] = process.argv.slice(2);
const db = openTestDatabase(url!);
const userIds = userIdsText!.split(',').map(Number);

console.log('ready');
const input = createInterface({ input: process.stdin });
for await (const line of input) if (line.trim() === 'go') break;
input.close();

const outcomes = await Promise.allSettled(userIds.map((userId) => redeemPromoCode(db, systemClock, userId, code!)));
const refused: Record<string, number> = {};
const errors: string[] = [];
for (const outcome of outcomes) {
  if (outcome.status === 'fulfilled') continue;
  if (outcome.reason instanceof PromoCodeRefusedError) refused[outcome.reason.reason] = (refused[outcome.reason.reason] ?? 0) + 1;
  else errors.push(String(outcome.reason));
}
console.log(`result ${JSON.stringify({ credited: outcomes.filter((o) => o.status === 'fulfilled').length, refused, errors })}`);
await db.destroy();
