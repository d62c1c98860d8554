// A separate OS process running the app's background work against the test's database, beside two
// others doing the same: it says "ready", waits for "go" on stdin so all start together, runs one
// scenario and prints its result as JSON (the singleton scenario prints a line per run, as it goes).
//   mail DATABASE_URL SMTP_URL NOW_MS                deliver the outbox, 3 rounds at once, until none is due
//   recharge DATABASE_URL STRIPE_URL NOW_MS          the recharge worker's rounds, 3 at once, until none is due
//   singleton DATABASE_URL EVERY_MS                  the job "probe" under its lease every EVERY_MS, until killed
import { createInterface } from 'node:readline';
import { createTransport } from 'nodemailer';
import { systemClock, type Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { openTestDatabase } from '../helpers/backend.ts';
import { deliverDueMail } from '../../src/mail/worker.ts';
import { billingDeps } from '../../src/billing/deps.ts';
import { processDueRecharges } from '../../src/billing/auto-recharge.ts';
import { startSingletonJob } from '../../src/jobs/singleton.ts';
import { processHolder } from '../../src/jobs/holder.ts';
import { installLedgerPolicy } from '../../src/ledger/policy.ts';
import { spendingPolicy } from '../../src/spending-policy/policy.ts';

installLedgerPolicy(spendingPolicy);

const [scenario, url, ...args] = process.argv.slice(2);
const db = openTestDatabase(url!, 8);
const errors: string[] = [];
const log = (line: string) => errors.push(line);
/** The test's clock, fixed: what is due is what the test made due. */
const fixedAt = (ms: string | undefined): Clock => ({ now: () => Number(ms) });

async function mail(smtpUrl: string, nowMs: string) {
  const delivery = { transport: createTransport(smtpUrl), from: 'tokentab <no-reply@example.com>', log };
  const clock = fixedAt(nowMs);
  const tried = await Promise.all([0, 1, 2].map(() => deliverDueMail(db, clock, delivery)));
  delivery.transport.close();
  return { tried: tried.reduce((sum, n) => sum + n, 0), errors };
}

async function recharge(stripeUrl: string, nowMs: string) {
  const config = loadConfig({ PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'sk_test_tokentab', STRIPE_WEBHOOK_SECRET: 'whsec_test_tokentab', STRIPE_API_BASE: stripeUrl });
  const deps = billingDeps(config, db, fixedAt(nowMs), log)!;
  const outcomes = (await Promise.all([0, 1, 2].map(() => processDueRecharges(deps)))).flat();
  return { outcomes, errors };
}

function singleton(everyMs: string): Promise<never> {
  startSingletonJob(db, systemClock, { name: 'probe', holder: processHolder(), everyMs: Number(everyMs), log: (line) => console.log(`error ${line}`) }, async () => {
    console.log(`ran ${Date.now()}`);
  });
  return new Promise(() => {});
}

console.log('ready');
const input = createInterface({ input: process.stdin });
for await (const line of input) if (line.trim() === 'go') break;
const result =
  scenario === 'mail' ? await mail(args[0]!, args[1]!)
  : scenario === 'recharge' ? await recharge(args[0]!, args[1]!)
  : scenario === 'singleton' ? await singleton(args[0]!)
  : { errors: [`unknown scenario ${scenario}`] };
console.log(`result ${JSON.stringify(result)}`);
await db.destroy();
process.exit(0);
