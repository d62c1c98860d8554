// Notices: a banner on the Credits tab and, when given, one email, raised once per dedupe key (a cap
// at 80% or 100% once a month; a declined recharge once per recharge) in the caller's transaction.
import type { DB } from '../db/connect.ts';
import type { Notice } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { queueMail, type OutgoingMail } from '../mail/outbox.ts';
import { utcMonthBounds } from '../month.ts';

export interface NewNotice {
  userId: number;
  kind: 'cap' | 'auto_recharge_failed';
  dedupeKey: string;
  message: string;
  email?: Omit<OutgoingMail, 'to'>;
}

/** Returns false when this notice was raised before (nothing is sent again). */
export async function raiseNoticeIn(trx: Trx, nowMs: number, notice: NewNotice): Promise<boolean> {
  const inserted = await trx
    .insertInto('notices')
    .values({ user_id: notice.userId, kind: notice.kind, dedupe_key: notice.dedupeKey, message: notice.message, dismissed_at_ms: null, created_at_ms: nowMs })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
  if (notice.email) {
    const user = await trx.selectFrom('users').select('email').where('id', '=', notice.userId).executeTakeFirstOrThrow();
    await queueMail(trx, nowMs, { to: user.email, ...notice.email });
  }
  return true;
}

/** This month's notices the user has not dismissed, newest first. */
export async function activeNotices(db: DB, userId: number, nowMs: number): Promise<Notice[]> {
  return db
    .selectFrom('notices')
    .selectAll()
    .where('user_id', '=', userId)
    .where('created_at_ms', '>=', utcMonthBounds(nowMs).startMs)
    .where('dismissed_at_ms', 'is', null)
    .orderBy('id', 'desc')
    .execute();
}

export async function dismissNotice(db: DB, userId: number, noticeId: number, nowMs: number): Promise<boolean> {
  const result = await db.updateTable('notices').set({ dismissed_at_ms: nowMs }).where('id', '=', noticeId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
