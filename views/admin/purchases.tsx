// /admin/purchases: every user's purchases (status, refunds, clawback and shortfall, disputes), a status
// filter, keyset pages, and "Reconcile now"; the table is also the purchases on a user's page.
import type { AdminActionRow } from '../../src/admin/actions.ts';
import type { AdminPurchaseRow } from '../../src/admin/purchases.ts';
import { creditsExactGroupedText, creditsProseText, priceText } from '../../src/money-text.ts';
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

/**
 * Purchases as the operator reads them: amount, credits, what refunds returned and took back, the
 * clawback a spent balance could not cover (shortfall), the dispute and the status. Status only, no
 * Resume or Cancel: those are the owner's. `showUser`: the list of every user's purchases.
 */
export function AdminPurchasesTable(props: { rows: AdminPurchaseRow[]; showUser?: boolean }) {
  if (props.rows.length === 0) return <p class="muted">No purchases.</p>;
  return (
    <div class="table-wrap">
      <table class="admin-purchases-table stack-on-phone">
        <thead>
          <tr>
            <th scope="col">Date (UTC)</th>
            {props.showUser ? <th scope="col">User</th> : null}
            <th scope="col">Package</th>
            <th scope="col" class="num">Amount</th>
            <th scope="col" class="num">Credits</th>
            <th scope="col" class="num">Refunded</th>
            <th scope="col" class="num">Clawed back</th>
            <th scope="col" class="num">Shortfall</th>
            <th scope="col">Dispute</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((p) => (
            <tr data-purchase={p.public_id} data-status={p.status}>
              <td data-label="Date (UTC)">{utcDateTime(p.created_at_ms)}</td>
              {props.showUser ? (
                <td data-label="User">
                  <a href={`/admin/users/${p.user_id}`}>{p.email}</a>
                </td>
              ) : null}
              <td data-label="Package">{p.package_name}</td>
              <td data-label="Amount" class="num" data-cents={p.price_cents}>{priceText(p.price_cents, p.currency)}</td>
              <td data-label="Credits" class="num" data-mc={p.credits_mc}>{creditsProseText(p.credits_mc)}</td>
              <td data-label="Refunded" class="num purchase-refunded" data-cents={p.amount_refunded_cents}>{p.amount_refunded_cents > 0 ? priceText(p.amount_refunded_cents, p.currency) : '—'}</td>
              <td data-label="Clawed back" class="num purchase-clawed-back" data-mc={p.clawed_back_mc}>{p.clawed_back_mc > 0 ? creditsExactGroupedText(p.clawed_back_mc) : '—'}</td>
              <td data-label="Shortfall" class="num purchase-shortfall" data-mc={p.shortfall_mc}>{p.shortfall_mc > 0 ? creditsExactGroupedText(p.shortfall_mc) : '—'}</td>
              <td data-label="Dispute">{p.dispute_status ?? '—'}</td>
              <td data-label="Status" class="purchase-status">{p.shown_status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
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
      <AdminPurchasesTable rows={props.rows} showUser />
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
