// The console's purchases: every user's or one user's, newest first, in keyset pages, optionally of one status;
// and "reconcile now" (the server's reconcile job, run at once) with its admin_actions row.
import type { Clock } from '../clock.ts';
import type { BillingDeps } from '../billing/deps.ts';
import { displayStatus, type PurchaseDisplayStatus } from '../billing/purchases.ts';
import { reconcileRecent } from '../billing/reconcile.ts';
import type { DB } from '../db/connect.ts';
import type { Cursor } from '../db/cursor.ts';
import { keysetQuery, toPage, type Page } from '../db/keyset.ts';
import type { Purchase, PurchaseStatus } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { recordAdminAction } from './actions.ts';

export const PURCHASE_STATUSES: readonly PurchaseStatus[] = ['pending', 'paid', 'cancelled', 'expired', 'failed', 'mismatch'];
export const PURCHASES_PAGE_SIZE = 50;

export interface AdminPurchaseRow extends Purchase {
  email: string;
  shown_status: PurchaseDisplayStatus;
}

/** `userId`: one user's only (their page in the console); null: every user's. */
export async function allPurchasesPage(db: DB, status: PurchaseStatus | null, cursor: Cursor | null, userId: number | null = null, pageSize = PURCHASES_PAGE_SIZE): Promise<Page<AdminPurchaseRow>> {
  let base = db.selectFrom('purchases as p').innerJoin('users as u', 'u.id', 'p.user_id').selectAll('p').select('u.email');
  if (status) base = base.where('p.status', '=', status);
  if (userId !== null) base = base.where('p.user_id', '=', userId);
  const query = db.selectFrom(base.as('t')).selectAll();
  const rows = (await keysetQuery(query, cursor, pageSize).execute()) as (Purchase & { email: string })[];
  return toPage(
    rows.map((row) => ({ ...row, shown_status: displayStatus(row) })),
    cursor,
    pageSize,
  );
}

export async function reconcileByAdmin(deps: BillingDeps, db: DB, clock: Clock, adminUserId: number, reason: string): Promise<{ checked: number; credited: number }> {
  const result = await reconcileRecent(deps);
  await writeTransaction(db, (trx) =>
    recordAdminAction(trx, { adminUserId, action: 'reconcile', targetUserId: null, target: 'purchases', reason, detail: `${result.checked} looked up; ${result.fulfilled.length} credited${result.fulfilled.length ? `: ${result.fulfilled.join(', ')}` : ''}`, nowMs: clock.now() }),
  );
  return { checked: result.checked, credited: result.fulfilled.length };
}
