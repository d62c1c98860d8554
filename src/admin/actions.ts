// The admin_actions log: one row per admin action, written in the same transaction as the action.
import type { DB } from '../db/connect.ts';
import type { AdminAction } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';

/** Every action asks why; kept with it. */
export const MAX_REASON_CHARS = 500;

/** What is wrong with a reason as typed (trimmed), or null. */
export function reasonProblem(reason: string): string | null {
  if (reason === '') return 'Give a reason: it is kept with the action.';
  return reason.length > MAX_REASON_CHARS ? `At most ${MAX_REASON_CHARS} characters.` : null;
}

export type AdminActionName = 'grant' | 'adjust' | 'revoke_key' | 'end_sessions' | 'disable' | 'enable' | 'rate_add' | 'rate_change' | 'rate_retire' | 'package_save' | 'reconcile';

export interface NewAdminAction {
  adminUserId: number;
  action: AdminActionName;
  targetUserId: number | null;
  target: string;
  reason: string;
  detail: string;
  nowMs: number;
}

export async function recordAdminAction(trx: Trx, input: NewAdminAction): Promise<void> {
  await trx
    .insertInto('admin_actions')
    .values({ admin_user_id: input.adminUserId, action: input.action, target_user_id: input.targetUserId, target: input.target, reason: input.reason, detail: input.detail, created_at_ms: input.nowMs })
    .execute();
}

export interface AdminActionRow extends AdminAction {
  admin_email: string;
}

/** The latest actions on a user, or (targetUserId null) of the given kinds on what is not a user (the rate card, packages). */
export function adminActionsOn(db: DB, targetUserId: number | null, limit: number, actions: readonly AdminActionName[] = []): Promise<AdminActionRow[]> {
  let query = db.selectFrom('admin_actions as a').innerJoin('users as u', 'u.id', 'a.admin_user_id').selectAll('a').select('u.email as admin_email');
  query = targetUserId === null ? query.where('a.target_user_id', 'is', null) : query.where('a.target_user_id', '=', targetUserId);
  if (actions.length > 0) query = query.where('a.action', 'in', actions);
  return query.orderBy('a.created_at_ms', 'desc').orderBy('a.id', 'desc').limit(limit).execute();
}
