// Invariant 4 for purchases: every paid purchase is credited exactly once (and no other purchase of
// ours is), paid amounts that did not match are reported, and refunds and disputes took back
// exactly their target. Run with the ledger's checks by src/audit.ts.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import type { Purchase } from '../db/schema.ts';
import type { Violation } from '../ledger/audit.ts';
import { clawbackTargetMc, creditReference, isCredited } from './clawback.ts';
import { priceText } from '../money-text.ts';
import { CHECKOUT_KEY_PREFIX, DISPUTE_KEY_PREFIX, PAYMENT_INTENT_KEY_PREFIX, REFUND_KEY_PREFIX, keysLike } from '../ledger/idempotency-keys.ts';

export async function purchasesCreditedOnce(db: DB): Promise<Violation[]> {
  const violations: Violation[] = [];
  const report = (detail: string) => violations.push({ invariant: 4, detail });

  // The key is UNIQUE, so "exactly once" is: a paid purchase has its entry, and nothing else has one.
  // Only the purchases whose credit is missing or off come back (at most 100), as in ledger/audit.ts.
  const paid = await sql<{ public_id: string; expected_type: string; session: string | null; user_id: number; credits_mc: number; entry_user: number | null; entry_mc: number | null; entry_type: string | null; entry_reference: string | null }>`
    select * from (
      select p.public_id, case when p.kind = 'auto_recharge' then 'auto_recharge' else 'purchase' end as expected_type,
             case when p.kind = 'auto_recharge' then p.payment_intent_id else p.checkout_session_id end as session, p.user_id, p.credits_mc,
             e.user_id as entry_user, e.amount_mc as entry_mc, e.type as entry_type, e.reference as entry_reference
      from purchases p
      left join ledger_entries e on e.idempotency_key = (case when p.kind = 'auto_recharge' then ${sql.lit(PAYMENT_INTENT_KEY_PREFIX)} || p.payment_intent_id else ${sql.lit(CHECKOUT_KEY_PREFIX)} || p.checkout_session_id end)
      where p.status = 'paid') as credited
    where entry_type is null or entry_type <> expected_type or entry_user <> user_id or entry_mc <> credits_mc or entry_reference <> session
    limit 100`.execute(db);
  for (const r of paid.rows) {
    if (r.entry_type === null) report(`purchase ${r.public_id}: paid (${r.session}) but never credited`);
    else report(`purchase ${r.public_id}: credited as ${r.entry_type} of ${r.entry_mc} mc to user ${r.entry_user} (reference ${r.entry_reference}), expected ${r.expected_type} of ${r.credits_mc} mc to user ${r.user_id} (${r.session})`);
  }
  // Every auto-recharge credit (pi:…) belongs to a succeeded recharge and its paid purchase: a
  // Checkout purchase's own PaymentIntent never credits a second time.
  const strayRecharges = await sql<{ id: number; idempotency_key: string }>`
    select e.id, e.idempotency_key from ledger_entries e
    where e.idempotency_key like ${sql.lit(keysLike(PAYMENT_INTENT_KEY_PREFIX))}
      and not exists (select 1 from purchases p where p.kind = 'auto_recharge' and p.status = 'paid' and (${sql.lit(PAYMENT_INTENT_KEY_PREFIX)} || p.payment_intent_id) = e.idempotency_key)
    limit 100`.execute(db);
  for (const r of strayRecharges.rows) report(`ledger entry ${r.id}: credited under ${r.idempotency_key} without a paid auto-recharge behind it`);
  // A purchase credit must come from a purchase here: one with no purchase row behind it (or a
  // purchase-type entry outside the checkout: keys) was not given by fulfilment.
  const orphans = await sql<{ id: number; idempotency_key: string | null }>`
    select e.id, e.idempotency_key from ledger_entries e
    where (e.type = 'purchase' or e.idempotency_key like ${sql.lit(keysLike(CHECKOUT_KEY_PREFIX))})
      and not exists (select 1 from purchases p where p.kind = 'checkout' and (${sql.lit(CHECKOUT_KEY_PREFIX)} || p.checkout_session_id) = e.idempotency_key)
    limit 100`.execute(db);
  for (const r of orphans.rows) report(`ledger entry ${r.id}: a purchase credit under ${r.idempotency_key ?? 'no key'} with no purchase behind it`);
  // A credit for a purchase here that is not paid (cancelled, expired, under review…) was given too early or twice.
  const unpaid = await sql<{ id: number; idempotency_key: string; public_id: string; status: string }>`
    select e.id, e.idempotency_key, p.public_id, p.status from ledger_entries e
    join purchases p on e.idempotency_key = (${sql.lit(CHECKOUT_KEY_PREFIX)} || p.checkout_session_id)
    where p.status <> 'paid'
    limit 100`.execute(db);
  for (const r of unpaid.rows) report(`ledger entry ${r.id}: credited under ${r.idempotency_key} but purchase ${r.public_id} is ${r.status}`);

  const mismatched = await db.selectFrom('purchases').selectAll().where('status', '=', 'mismatch').execute();
  for (const p of mismatched) {
    report(
      `purchase ${p.public_id}: ${p.checkout_session_id} was paid ${priceText(Number(p.paid_amount_cents ?? 0), p.paid_currency ?? '?')} but the package costs ${priceText(p.price_cents, p.currency)}; not credited, needs review`,
    );
  }

  // Refund and dispute entries carry the purchase's credit reference (its Checkout Session, or an
  // auto-recharge's PaymentIntent) and a refund:/dispute: key.
  const reversals = await sql<{ reference: string; user_id: number; sum_mc: number }>`
    select reference, user_id, sum(amount_mc) as sum_mc from ledger_entries
    where type in ('refund', 'adjustment') and (idempotency_key like ${sql.lit(keysLike(REFUND_KEY_PREFIX))} or idempotency_key like ${sql.lit(keysLike(DISPUTE_KEY_PREFIX))})
    group by reference, user_id`.execute(db);
  const reversedByReference = new Map(reversals.rows.map((r) => [`${r.user_id} ${r.reference}`, -Number(r.sum_mc)]));
  const touched = await db
    .selectFrom('purchases')
    .selectAll()
    .where((eb) => eb.or([eb('amount_refunded_cents', '>', 0), eb('dispute_id', 'is not', null), eb('clawed_back_mc', '<>', 0), eb('shortfall_mc', '<>', 0)]))
    .execute();
  for (const p of touched as Purchase[]) {
    const takenMc = reversedByReference.get(`${p.user_id} ${creditReference(p)}`) ?? 0;
    const targetMc = isCredited(p) ? clawbackTargetMc(p) : 0;
    if (takenMc !== p.clawed_back_mc) report(`purchase ${p.public_id}: ${p.clawed_back_mc} mc recorded as clawed back but its refund entries take ${takenMc} mc`);
    if (p.clawed_back_mc + p.shortfall_mc !== targetMc) {
      report(`purchase ${p.public_id}: clawed back ${p.clawed_back_mc} mc + shortfall ${p.shortfall_mc} mc, but refunds and disputes call for ${targetMc} mc`);
    }
  }
  return violations;
}
