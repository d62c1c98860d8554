// Stored password-reset links: only a SHA-256 of the link's token is kept. A link works once, within
// RESET_LIFETIME_MS, and only while the account's password and email stay as they were: changing
// either, or completing a reset, deletes the user's other pending links.
import type { DB } from '../db/connect.ts';
import type { Trx } from '../db/transaction.ts';
import { hashToken } from './tokens.ts';

export const RESET_LIFETIME_MS = 60 * 60 * 1000;

export async function storeResetLink(trx: Trx, userId: number, token: string, nowMs: number): Promise<void> {
  await trx
    .insertInto('password_resets')
    .values({ user_id: userId, token_hash: hashToken(token), expires_at_ms: nowMs + RESET_LIFETIME_MS, used_at_ms: null, created_at_ms: nowMs })
    .execute();
}

export async function isResetLinkUsable(db: DB, token: string, nowMs: number): Promise<boolean> {
  const reset = await db
    .selectFrom('password_resets')
    .select('id')
    .where('token_hash', '=', hashToken(token))
    .where('used_at_ms', 'is', null)
    .where('expires_at_ms', '>', nowMs)
    .executeTakeFirst();
  return reset !== undefined;
}

/** Marks the link used if it still works; returns its user's id, or undefined. */
export async function useResetLink(trx: Trx, token: string, nowMs: number): Promise<number | undefined> {
  const reset = await trx
    .updateTable('password_resets')
    .set({ used_at_ms: nowMs })
    .where('token_hash', '=', hashToken(token))
    .where('used_at_ms', 'is', null)
    .where('expires_at_ms', '>', nowMs)
    .returning('user_id')
    .executeTakeFirst();
  return reset?.user_id;
}

export async function invalidatePendingResets(db: DB, userId: number): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', userId).where('used_at_ms', 'is', null).execute();
}
