// /admin/purchases: every user's purchases (status, refunds, disputes), a status filter, keyset pages,
// and "Reconcile now".
import type { AdminActionRow } from '../../src/admin/actions.ts';
import type { AdminPurchaseRow } from '../../src/admin/purchases.ts';
import { creditsProseText, priceText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';
import { ActionsLog } from './actions-log.tsx';

export interface AdminPurchasesProps {
  rows: AdminPurchaseRow[];
  statuses: readonly string[];
  status: string;
  previousQuery: string | null;
  nextQuery: string | null;
  /** False when payments are off: nothing to reconcile. */
  canReconcile: boolean;
  notice: string | null;
  error: string | null;
  actions: AdminActionRow[];
}

export function AdminPurchases(props: AdminPurchasesProps) {
  return (
    <>
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      {props.error ? <p class="form-error" role="alert">{props.error}</p> : null}
      <form class="card form" method="get" action="/admin/purchases">
        <div class="field">
          <label for="purchase-status">Status</label>
          <select id="purchase-status" name="status">
            <option value="">Any</option>
            {props.statuses.map((s) => (
              <option value={s} selected={props.status === s}>{s}</option>
            ))}
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {props.rows.length === 0 ? (
        <p class="muted">No purchases.</p>
      ) : (
        <div class="table-wrap">
          <table class="admin-purchases-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">User</th>
                <th scope="col">Package</th>
                <th scope="col" class="num">Amount</th>
                <th scope="col" class="num">Credits</th>
                <th scope="col" class="num">Refunded</th>
                <th scope="col">Dispute</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((p) => (
                <tr data-purchase={p.public_id} data-status={p.status}>
                  <td data-label="Date (UTC)">{utcDateTime(p.created_at_ms)}</td>
                  <td data-label="User">
                    <a href={`/admin/users/${p.user_id}`}>{p.email}</a>
                  </td>
                  <td data-label="Package">{p.package_name}</td>
                  <td data-label="Amount" class="num" data-cents={p.price_cents}>{priceText(p.price_cents, p.currency)}</td>
                  <td data-label="Credits" class="num" data-mc={p.credits_mc}>{creditsProseText(p.credits_mc)}</td>
                  <td data-label="Refunded" class="num" data-cents={p.amount_refunded_cents}>{p.amount_refunded_cents > 0 ? priceText(p.amount_refunded_cents, p.currency) : '—'}</td>
                  <td data-label="Dispute">{p.dispute_status ?? '—'}</td>
                  <td data-label="Status" class="purchase-status">{p.shown_status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Purchase pages">
        {props.previousQuery ? <a href={`/admin/purchases${props.previousQuery}`} rel="prev">Newer</a> : null}
        {props.nextQuery ? <a href={`/admin/purchases${props.nextQuery}`} rel="next">Older</a> : null}
      </nav>
      {props.canReconcile ? (
        <form id="reconcile" class="card form" method="post" action="/admin/purchases/reconcile">
          <h2>Reconcile now</h2>
          <p class="muted">Asks the payment provider for the paid checkouts of the last 72 hours and the pending auto-recharges, and credits any a webhook missed (what the server does every RECONCILE_EVERY_SECONDS).</p>
          <div class="field">
            <label for="reconcile-reason">Reason</label>
            <input id="reconcile-reason" name="reason" type="text" required maxlength={500} />
          </div>
          <button type="submit">Reconcile now</button>
        </form>
      ) : (
        <p class="muted">Payments are off (PAYMENTS=off): nothing to reconcile.</p>
      )}
      <ActionsLog rows={props.actions} />
    </>
  );
}
