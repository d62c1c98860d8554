// The admin_actions rows on one target (a user, or the rate card and packages): who, what, why, when.
import type { AdminActionRow } from '../../src/admin/actions.ts';
import { utcDateTime } from '../time.ts';

export function ActionsLog(props: { rows: AdminActionRow[] }) {
  return (
    <section id="admin-actions" aria-labelledby="admin-actions-title">
      <h2 id="admin-actions-title">Admin actions</h2>
      {props.rows.length === 0 ? (
        <p class="muted">No admin actions yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="admin-actions-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">Admin</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Detail</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row) => (
                <tr data-action={row.action} data-action-id={row.id}>
                  <td data-label="Date (UTC)">{utcDateTime(row.created_at_ms)}</td>
                  <td data-label="Admin">{row.admin_email}</td>
                  <td data-label="Action">{row.action}</td>
                  <td data-label="Target">{row.target}</td>
                  <td data-label="Detail">{row.detail}</td>
                  <td data-label="Reason">{row.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
