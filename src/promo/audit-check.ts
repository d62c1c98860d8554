// Invariant 6, promo credits: no code redeemed beyond its limit, every grant credited once by its
// `promo` entry, what expired taken by `expiry` entries of exactly that, no ended grant still counted
// in the balance, and each wallet's promo_mc the live grants' remainder, within the balance.
// Run with the other checks by src/audit.ts.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import type { Violation } from '../ledger/audit.ts';
import { PROMO_KEY_PREFIX } from '../ledger/idempotency-keys.ts';

export async function promoCreditsAccounted(db: DB): Promise<Violation[]> {
  const violations: Violation[] = [];
  const report = (detail: string) => violations.push({ invariant: 6, detail });

  // Redemptions counted by their grants (one per user, by UNIQUE index), against the limit and the counter.
  const codes = await sql<{ id: number; code_hint: string; max_redemptions: number; redemptions: number; grants: number }>`
    select id, code_hint, max_redemptions, redemptions, grants from (
      select c.id, c.code_hint, c.max_redemptions, c.redemptions, (select count(*) from promo_grants g where g.code_id = c.id) as grants
      from promo_codes c) as s
    where grants > max_redemptions or grants <> redemptions or redemptions > max_redemptions
    limit 100`.execute(db);
  for (const r of codes.rows) {
    report(`promo code ${r.id} (…${r.code_hint}): redeemed ${r.grants} times (counter ${r.redemptions}) but its limit is ${r.max_redemptions}`);
  }

  // Each grant: its credit, what expired of it, and what is left.
  const grants = await sql<{ id: number; user_id: number; amount_mc: number; remaining_mc: number; expired_mc: number; ended_at_ms: number | null; entry_mc: number | null; entry_user: number | null; entry_type: string | null; expiry_mc: number }>`
    select * from (
      select g.id, g.user_id, g.amount_mc, g.remaining_mc, g.expired_mc, g.ended_at_ms,
             e.amount_mc as entry_mc, e.user_id as entry_user, e.type as entry_type,
             coalesce((select -sum(x.amount_mc) from ledger_entries x where x.type = 'expiry' and x.user_id = g.user_id and x.reference = ('promo grant ' || g.id)), 0) as expiry_mc
      from promo_grants g
      left join ledger_entries e on e.idempotency_key = (${sql.lit(PROMO_KEY_PREFIX)} || g.id)) as s
    where entry_type is null or entry_type <> 'promo' or entry_user <> user_id or entry_mc <> amount_mc
       or expiry_mc <> expired_mc or (ended_at_ms is not null and remaining_mc <> 0) or remaining_mc + expired_mc > amount_mc
    limit 100`.execute(db);
  for (const r of grants.rows) {
    const grant = `promo grant ${r.id} (user ${r.user_id})`;
    if (r.entry_type === null) report(`${grant}: ${r.amount_mc} mc granted but never credited`);
    else if (r.entry_type !== 'promo' || Number(r.entry_user) !== Number(r.user_id) || Number(r.entry_mc) !== Number(r.amount_mc)) {
      report(`${grant}: credited as ${r.entry_type} of ${r.entry_mc} mc to user ${r.entry_user}, expected promo of ${r.amount_mc} mc`);
    }
    if (Number(r.expiry_mc) !== Number(r.expired_mc)) report(`${grant}: ${r.expired_mc} mc recorded as expired but its expiry entries take ${r.expiry_mc} mc`);
    if (r.ended_at_ms !== null && Number(r.remaining_mc) !== 0) report(`${grant}: ended, yet ${r.remaining_mc} mc of it still counts in the balance`);
    if (Number(r.remaining_mc) + Number(r.expired_mc) > Number(r.amount_mc)) report(`${grant}: ${r.remaining_mc} mc left and ${r.expired_mc} mc expired of ${r.amount_mc} mc granted`);
  }

  // A promo credit with no grant behind it (by type: an operator's own key may start like ours).
  const orphans = await sql<{ id: number; idempotency_key: string | null }>`
    select e.id, e.idempotency_key from ledger_entries e
    where e.type = 'promo'
      and not exists (select 1 from promo_grants g where (${sql.lit(PROMO_KEY_PREFIX)} || g.id) = e.idempotency_key)
    limit 100`.execute(db);
  for (const r of orphans.rows) report(`ledger entry ${r.id}: a promo credit under ${r.idempotency_key ?? 'no key'} with no grant behind it`);

  // The wallet's live promo credit: Σ of what is left of its live grants, and never more than the balance.
  const wallets = await sql<{ user_id: number; balance_mc: number; promo_mc: number; live_mc: number }>`
    select user_id, balance_mc, promo_mc, live_mc from (
      select w.user_id, w.balance_mc, w.promo_mc,
             coalesce((select sum(g.remaining_mc) from promo_grants g where g.user_id = w.user_id and g.ended_at_ms is null), 0) as live_mc
      from wallets w) as s
    where promo_mc <> live_mc or promo_mc < 0 or promo_mc > balance_mc
    limit 100`.execute(db);
  for (const r of wallets.rows) {
    report(`user ${r.user_id}: ${r.promo_mc} mc of promo credit in the wallet (balance ${r.balance_mc} mc) but its live grants hold ${r.live_mc} mc`);
  }
  return violations;
}
