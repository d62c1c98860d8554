// What must hold once a trial's holds have ended: `audit` (src/audit.ts) clean, nothing held, each
// purchase credited exactly as often as it was paid (once or never), no user charged more than the
// credits they were given, every call the client saw succeed charged on a settled hold, every refused
// call (4xx) charged nothing and none answered 500, and no hold left pending once every process stopped and the killed ones' leases were reaped.
import { sql } from 'kysely';
import { audit } from '../src/audit.ts';
import { ManualClock } from '../src/clock.ts';
import type { DB } from '../src/db/connect.ts';
import { reapLapsedLeases } from '../src/jobs/process-lease.ts';
import { expireHolds } from '../src/ledger/holds.ts';
import { checkoutEntryKey } from '../src/ledger/idempotency-keys.ts';
import type { Observations } from './operations.ts';
import type { SimUser } from './world.ts';

export interface HoldsEnded {
  /** Holds still pending once every process had stopped: a killed process's calls. */
  pendingAtStop: number;
  /** Of those, still pending once the killed processes' leases were reaped: none should be. */
  leftPending: number;
  /** Ended by the sweeper run here past their TTL (the last resort). */
  expired: number;
}

async function pendingHolds(db: DB): Promise<number> {
  const pending = await db.selectFrom('holds').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  return Number(pending.n);
}

/**
 * Ends the holds a killed process left: its calls will never settle them. First as a live process
 * would, once the dead one's lease has lapsed (src/jobs/process-lease.ts: every server placed its holds
 * under its lease, and a clean stop ended its own), with a clock one term ahead; what that leaves is a
 * leak. Then the sweeper, with a clock past every hold's TTL, so the rest of the checks still run.
 */
export async function endHolds(db: DB, holdTtlSeconds: number, processLeaseSeconds: number): Promise<HoldsEnded> {
  const pendingAtStop = await pendingHolds(db);
  await reapLapsedLeases(db, new ManualClock(Date.now() + (processLeaseSeconds + 1) * 1000), () => {});
  const leftPending = await pendingHolds(db);
  const expired = await expireHolds(db, new ManualClock(Date.now() + (holdTtlSeconds + 60) * 1000));
  return { pendingAtStop, leftPending, expired };
}

export async function checkInvariants(db: DB, users: SimUser[], seen: Observations, holds: HoldsEnded): Promise<string[]> {
  const violations: string[] = [];
  const fail = (invariant: string, detail: string) => violations.push(`${invariant}: ${detail}`);

  for (const problem of seen.problems) fail('answer', problem);
  for (const violation of await audit(db)) fail(`audit ${violation.invariant}`, violation.detail);

  if (holds.leftPending > 0) fail('holds leaked', `${holds.leftPending} holds pending after every process stopped${seen.killed ? ' and the killed processes\' leases were reaped' : ', none killed'}`);
  const stillPending = await db.selectFrom('holds').select(['id', 'user_id']).where('status', '=', 'pending').execute();
  for (const hold of stillPending) fail('holds ended', `hold ${hold.id} of user ${hold.user_id} still pending after the sweep`);
  const wallets = await db.selectFrom('wallets').select(['user_id', 'balance_mc', 'held_mc']).execute();
  for (const wallet of wallets) {
    if (Number(wallet.held_mc) !== 0) fail('nothing held', `user ${wallet.user_id}: held ${wallet.held_mc} mc at the end`);
    if (Number(wallet.balance_mc) < 0) fail('no negative balance', `user ${wallet.user_id}: balance ${wallet.balance_mc} mc`);
  }

  for (const purchase of seen.purchases) {
    const entries = await db.selectFrom('ledger_entries').select(['id']).where('idempotency_key', '=', checkoutEntryKey(purchase.sessionId)).execute();
    const expected = purchase.paid ? 1 : 0;
    if (entries.length !== expected) fail('purchase credited once', `session ${purchase.sessionId} (${purchase.paid ? 'paid' : 'not paid'}) credited ${entries.length} times`);
    // The purchase ends where Stripe ended (audit checks that the ledger took back what the purchase
    // row calls for; this checks the row against Stripe's last word, whatever order the events came in).
    const row = await db.selectFrom('purchases').selectAll().where('checkout_session_id', '=', purchase.sessionId).executeTakeFirst();
    if (!row) {
      fail('purchase recorded', `session ${purchase.sessionId} has no purchase`);
      continue;
    }
    const truth = `refunded ${purchase.refundedCents} cents, dispute ${purchase.disputeStatus ?? 'none'}`;
    const recorded = `refunded ${row.amount_refunded_cents} cents, dispute ${row.dispute_status ?? 'none'}`;
    if (truth !== recorded) fail('purchase follows Stripe', `session ${purchase.sessionId}: Stripe says ${truth}, the purchase ${recorded}`);
    const expectedStatus = purchase.paid ? 'paid' : 'expired';
    if (row.status !== expectedStatus) fail('purchase follows Stripe', `session ${purchase.sessionId}: purchase ${row.status}, expected ${expectedStatus}`);
  }

  // Σ charges ≤ Σ credits in, per user: what the balance could pay.
  const money = await sql<{ user_id: number; credited_mc: number; charged_mc: number }>`
    select u.id as user_id,
      coalesce((select sum(e.amount_mc) from ledger_entries e where e.user_id = u.id and e.amount_mc > 0), 0) as credited_mc,
      coalesce((select sum(g.charged_mc) from usage g where g.user_id = u.id), 0) as charged_mc
    from users u`.execute(db);
  for (const row of money.rows) {
    if (Number(row.charged_mc) > Number(row.credited_mc)) fail('charges within credits', `user ${row.user_id}: charged ${row.charged_mc} mc of ${row.credited_mc} mc credited`);
  }

  const requestIds = seen.calls.map((c) => c.requestId).filter((id): id is string => id !== null);
  const rows =
    requestIds.length === 0
      ? []
      : await db
          .selectFrom('usage')
          .innerJoin('holds', 'holds.id', 'usage.hold_id')
          .select(['usage.request_id', 'usage.user_id', 'usage.charged_mc', 'usage.status', 'holds.status as hold_status'])
          .where('usage.request_id', 'in', requestIds)
          .execute();
  const usageOf = new Map(rows.map((row) => [row.request_id, row]));
  const successes = new Map<number, { count: number; chargedMc: number }>();
  for (const callSeen of seen.calls) {
    const row = callSeen.requestId === null ? undefined : usageOf.get(callSeen.requestId);
    if (callSeen.outcome === 'success') {
      if (!row) {
        fail('success charged', `op ${callSeen.op} (${callSeen.requestId}) answered 200 whole but has no usage row`);
        continue;
      }
      if (row.hold_status !== 'settled' || row.status !== 'ok') fail('success charged', `op ${callSeen.op} (${callSeen.requestId}): hold ${row.hold_status}, usage ${row.status}`);
      const user = users[callSeen.user]!;
      if (Number(row.user_id) !== user.userId) fail('success charged', `op ${callSeen.op} charged to user ${row.user_id}, not ${user.userId}`);
      const tally = successes.get(callSeen.user) ?? { count: 0, chargedMc: 0 };
      tally.count++;
      tally.chargedMc += Number(row.charged_mc);
      successes.set(callSeen.user, tally);
    } else if (callSeen.status === 500) {
      // tokentab's own failure (a call it could not record), never an upstream's: those are 502/504.
      fail('no internal error', `op ${callSeen.op} (${callSeen.requestId}) answered 500`);
    } else if (callSeen.status !== null && callSeen.status >= 400 && callSeen.status < 500 && row && Number(row.charged_mc) !== 0) {
      // A 5xx may charge the part of an answer that arrived (docs: upstream_connection_lost, upstream_timeout); a 4xx never charges.
      fail('refusals free', `op ${callSeen.op} (${callSeen.requestId}) answered ${callSeen.status} but was charged ${row.charged_mc} mc`);
    }
  }
  // The successful calls, counted against the credits they could be paid from.
  for (const [index, tally] of successes) {
    const userId = users[index]!.userId;
    const credited = money.rows.find((row) => Number(row.user_id) === userId);
    const okRows = await db.selectFrom('usage').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('status', '=', 'ok').executeTakeFirstOrThrow();
    if (tally.count > Number(okRows.n)) fail('successes counted', `user ${userId}: ${tally.count} calls answered whole, ${okRows.n} settled ok`);
    if (tally.chargedMc > Number(credited?.credited_mc ?? 0)) fail('successes within credits', `user ${userId}: ${tally.count} successful calls cost ${tally.chargedMc} mc of ${credited?.credited_mc ?? 0} mc credited`);
  }
  return violations;
}
