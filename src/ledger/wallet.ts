// Reads a user's wallet: settled balance, what pending holds reserve, what is left to spend, and the
// promo credit in it with when each part expires.
import type { DB } from '../db/connect.ts';

export interface WalletSummary {
  balanceMc: number;
  heldMc: number;
  availableMc: number;
  heldCalls: number;
  /** The live promo credit in the balance (spent first, expires). */
  promoMc: number;
  /** What is left of each live promo grant and when it expires, soonest first (at most PROMO_LINES). */
  promoExpiring: { amountMc: number; expiresAtMs: number }[];
}

/** The balance card lists this many promo grants at most; a user rarely has more than one or two. */
const PROMO_LINES = 5;

export async function walletSummary(db: DB, userId: number): Promise<WalletSummary> {
  const wallet = await db
    .selectFrom('wallets')
    .select(['balance_mc', 'held_mc', 'promo_mc'])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  const pending = await db
    .selectFrom('holds')
    .select((eb) => eb.fn.countAll<number>().as('calls'))
    .where('user_id', '=', userId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  // Read only when there is promo credit: most wallets have none.
  const promo =
    Number(wallet.promo_mc) > 0
      ? await db
          .selectFrom('promo_grants')
          .select(['remaining_mc', 'expires_at_ms'])
          .where('user_id', '=', userId)
          .where('ended_at_ms', 'is', null)
          .where('remaining_mc', '>', 0)
          .orderBy('expires_at_ms')
          .orderBy('id')
          .limit(PROMO_LINES)
          .execute()
      : [];
  return {
    balanceMc: wallet.balance_mc,
    heldMc: wallet.held_mc,
    availableMc: wallet.balance_mc - wallet.held_mc,
    heldCalls: Number(pending.calls),
    promoMc: Number(wallet.promo_mc),
    promoExpiring: promo.map((grant) => ({ amountMc: Number(grant.remaining_mc), expiresAtMs: Number(grant.expires_at_ms) })),
  };
}
