// What an admin does to a user (grant, adjust, revoke a key, end sessions, disable, enable): each
// in one transaction with its admin_actions row, so there is never an action without its record.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { lockWallet } from '../db/locks.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { debitAtMostIn, recordCreditIn } from '../ledger/credits.ts';
import { creditsExactText } from '../money-text.ts';
import { recordAdminAction, type AdminActionName } from './actions.ts';

/** A negative adjustment larger than what the user may spend now (balance − held): nothing is taken. */
export class AdjustBeyondAvailableError extends Error {
  override name = 'AdjustBeyondAvailableError';
  constructor(readonly availableMc: number) {
    super(`at most ${availableMc} mc can be taken now`);
  }
}

/** The key is not this user's (or there is no such key). */
export class AdminTargetNotFoundError extends Error {
  override name = 'AdminTargetNotFoundError';
}

export interface ByAdmin {
  adminUserId: number;
  userId: number;
  reason: string;
}

function act(db: DB, clock: Clock, by: ByAdmin, action: AdminActionName, work: (trx: Trx, nowMs: number) => Promise<{ target: string; detail: string }>): Promise<void> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const { target, detail } = await work(trx, nowMs);
    await recordAdminAction(trx, { adminUserId: by.adminUserId, action, targetUserId: by.userId, target, reason: by.reason, detail, nowMs });
  });
}

const userTarget = (userId: number) => `user ${userId}`;

export function grantByAdmin(db: DB, clock: Clock, by: ByAdmin, amountMc: number): Promise<void> {
  return act(db, clock, by, 'grant', async (trx, nowMs) => {
    const written = await recordCreditIn(trx, nowMs, { userId: by.userId, type: 'grant', amountMc, reference: by.reason });
    return { target: userTarget(by.userId), detail: `+${creditsExactText(amountMc)} credits (ledger entry ${written.entry.id}; balance after ${creditsExactText(written.balanceMc)})` };
  });
}

/**
 * Positive adds; negative takes, but only from what is available (balance − held): credits reserved
 * for calls in flight are not the admin's to take, and a partial take would leave the admin guessing.
 */
export function adjustByAdmin(db: DB, clock: Clock, by: ByAdmin, amountMc: number): Promise<void> {
  return act(db, clock, by, 'adjust', async (trx, nowMs) => {
    const common = { userId: by.userId, type: 'adjustment' as const, reference: by.reason };
    if (amountMc < 0) {
      await lockWallet(trx, by.userId);
      const wallet = await trx.selectFrom('wallets').select(['balance_mc', 'held_mc']).where('user_id', '=', by.userId).executeTakeFirstOrThrow();
      const availableMc = Math.max(0, wallet.balance_mc - wallet.held_mc);
      if (-amountMc > availableMc) throw new AdjustBeyondAvailableError(availableMc);
    }
    const written = amountMc > 0 ? await recordCreditIn(trx, nowMs, { ...common, amountMc }) : await debitAtMostIn(trx, nowMs, { ...common, amountMc: -amountMc });
    const sign = amountMc > 0 ? '+' : '';
    return { target: userTarget(by.userId), detail: `${sign}${creditsExactText(amountMc)} credits (ledger entry ${written.entry.id}; balance after ${creditsExactText(written.balanceMc)})` };
  });
}

export function revokeKeyByAdmin(db: DB, clock: Clock, by: ByAdmin, keyId: number): Promise<void> {
  return act(db, clock, by, 'revoke_key', async (trx, nowMs) => {
    const key = await trx.selectFrom('api_keys').select(['id', 'name', 'prefix', 'revoked_at_ms']).where('id', '=', keyId).where('user_id', '=', by.userId).executeTakeFirst();
    if (!key) throw new AdminTargetNotFoundError(`no key ${keyId} on user ${by.userId}`);
    if (key.revoked_at_ms === null) await trx.updateTable('api_keys').set({ revoked_at_ms: nowMs }).where('id', '=', keyId).execute();
    return { target: `key ${key.id} (${key.name}, ${key.prefix}…)`, detail: key.revoked_at_ms === null ? 'revoked' : 'was already revoked' };
  });
}

async function endSessionsIn(trx: Trx, userId: number): Promise<number> {
  const ended = await trx.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(ended.numDeletedRows);
}

export function endSessionsByAdmin(db: DB, clock: Clock, by: ByAdmin): Promise<void> {
  return act(db, clock, by, 'end_sessions', async (trx) => ({ target: userTarget(by.userId), detail: `${await endSessionsIn(trx, by.userId)} sessions ended` }));
}

/** No sign-in, no API calls (403 account_disabled), every session ended; keys are kept for re-enabling. */
export function disableByAdmin(db: DB, clock: Clock, by: ByAdmin): Promise<void> {
  return act(db, clock, by, 'disable', async (trx, nowMs) => {
    await trx.updateTable('users').set({ disabled_at_ms: nowMs }).where('id', '=', by.userId).where('disabled_at_ms', 'is', null).execute();
    return { target: userTarget(by.userId), detail: `sign-in and API access off; ${await endSessionsIn(trx, by.userId)} sessions ended` };
  });
}

export function enableByAdmin(db: DB, clock: Clock, by: ByAdmin): Promise<void> {
  return act(db, clock, by, 'enable', async (trx) => {
    await trx.updateTable('users').set({ disabled_at_ms: null }).where('id', '=', by.userId).execute();
    return { target: userTarget(by.userId), detail: 'sign-in and API access on' };
  });
}
