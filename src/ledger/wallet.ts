// Reads a user's wallet: settled balance, what pending holds reserve, and what is left to spend.
import type { DB } from '../db/connect.ts';

export interface WalletSummary {
  balanceMc: number;
  heldMc: number;
  availableMc: number;
  heldCalls: number;
}

export async function walletSummary(db: DB, userId: number): Promise<WalletSummary> {
  const wallet = await db
    .selectFrom('wallets')
    .select(['balance_mc', 'held_mc'])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  const pending = await db
    .selectFrom('holds')
    .select((eb) => eb.fn.countAll<number>().as('calls'))
    .where('user_id', '=', userId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return {
    balanceMc: wallet.balance_mc,
    heldMc: wallet.held_mc,
    availableMc: wallet.balance_mc - wallet.held_mc,
    heldCalls: Number(pending.calls),
  };
}
