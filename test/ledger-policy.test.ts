// The ledger's policy (docs/architecture.md, "The ledger's policy"): a write without one installed
// fails loudly; with one, each write transaction reads the state once and hands that same object to
// every hook; a second, different policy is refused. Runs in its own process without
// test/helpers/db.ts, which installs the app's policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/clock.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { installLedgerPolicy, type LedgerPolicy, type WalletState } from '../src/ledger/policy.ts';
import { currentRate } from '../src/pricing/rates.ts';
import { spendingPolicy } from '../src/spending-policy/policy.ts';
import { asCallLimits } from '../src/spending-policy/call-limits.ts';
import type { Rate } from '../src/db/schema.ts';
import { rejects } from './helpers/assert.ts';
import { emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';

const dir = mkdtempSync(join(tmpdir(), 'tokentab-policy-'));
const db = openTestDatabase(await emptyDatabaseUrl(dir, 'test.db'));
const clock = new ManualClock(Date.UTC(2026, 10, 26, 12));
await migrateToLatest(db);
await seedDefaults(db, clock);
const user = await createUser(db, clock, { email: 'policy@example.com', passwordHash: 'x' });
const rate = (await currentRate(db, 'gpt-4o-mini')) as Rate;

/** The app's policy, recording each call and the state object each was given. */
const calls: { hook: string; state: WalletState }[] = [];
const recording: LedgerPolicy = {
  async readState(trx, scope) {
    const state = await spendingPolicy.readState(trx, scope);
    calls.push({ hook: 'readState', state });
    return state;
  },
  async afterBalanceChange(trx, change, state) {
    calls.push({ hook: `afterBalanceChange:${change.cause}`, state });
    await spendingPolicy.afterBalanceChange(trx, change, asCallLimits(state));
  },
  async afterSettle(trx, call, state) {
    calls.push({ hook: 'afterSettle', state });
    await spendingPolicy.afterSettle(trx, call, asCallLimits(state));
  },
};

/** The hooks of one write, in order, each checked to have the state its readState returned. */
function oneWrite(): string[] {
  const [read, ...hooks] = calls.splice(0);
  assert.is(read?.hook, 'readState', 'the state is read first');
  for (const hook of hooks) assert.ok(hook.state === read!.state, `${hook.hook} gets the same state object`);
  return hooks.map((hook) => hook.hook);
}

test('a write with no policy installed throws and writes nothing', async () => {
  await rejects(() => grantCredits(db, clock, { userId: user.id, amountMc: 1_000, reason: 'test' }), /no ledger policy installed/);
  const wallet = await db.selectFrom('wallets').select('balance_mc').where('user_id', '=', user.id).executeTakeFirstOrThrow();
  assert.is(wallet.balance_mc, 0);
});

test('each write reads the state once and hands that same object to its hooks', async () => {
  installLedgerPolicy(recording);
  await grantCredits(db, clock, { userId: user.id, amountMc: 1_000_000, reason: 'test' });
  assert.equal(oneWrite(), ['afterBalanceChange:ledger']);
  const hold = await placeHold(db, clock, { userId: user.id, apiKeyId: null, requestId: 'req_policy', rate, roundingMode: 'exact', amountMc: 5_000, ttlMs: 600_000 });
  assert.equal(oneWrite(), ['afterBalanceChange:hold']);
  await settleHold(db, clock, hold.id, { tokens: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10 }, status: 'ok', estimated: false, latencyMs: 1 });
  assert.equal(oneWrite(), ['afterBalanceChange:settle', 'afterSettle']);
});

test('the same policy may be installed again; a different one is refused', () => {
  installLedgerPolicy(recording);
  assert.throws(() => installLedgerPolicy(spendingPolicy), /a different ledger policy is already installed/);
});

test('asCallLimits refuses a state the spending policy did not read', () => {
  assert.throws(() => asCallLimits({ balanceMc: 0, heldMc: 0, availableMc: 0, promoMc: 0 }), /not read by readCallLimits/);
});

test.after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test.run();
