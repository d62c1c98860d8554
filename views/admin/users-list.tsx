// /admin/users: the search form (email, sort) and a keyset page of users with balance and last activity.
import type { UserListRow, UserSort } from '../../src/admin/user-list.ts';
import { creditsExactGroupedText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';

export interface UsersListProps {
  search: string;
  sort: UserSort;
  rows: UserListRow[];
  /** "?search=…&sort=…&cursor=…" of the previous and next pages, or null. */
  previousQuery: string | null;
  nextQuery: string | null;
  errors: Record<string, string>;
}

export function UsersList(props: UsersListProps) {
  return (
    <>
      <form class="card form admin-search" method="get" action="/admin/users">
        <div class="field">
          <label for="admin-search">Email contains</label>
          <input id="admin-search" name="search" type="search" value={props.search} maxlength={254} aria-invalid={props.errors.search ? 'true' : undefined} />
          {props.errors.search ? <p class="field-error">{props.errors.search}</p> : null}
        </div>
        <div class="field">
          <label for="admin-sort">Sort by</label>
          <select id="admin-sort" name="sort">
            <option value="activity" selected={props.sort === 'activity'}>Last activity</option>
            <option value="balance" selected={props.sort === 'balance'}>Balance</option>
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      {props.errors.cursor ? <p class="form-error" role="alert">{props.errors.cursor}</p> : null}
      {props.rows.length === 0 ? (
        <p class="muted">No users match.</p>
      ) : (
        <div class="table-wrap">
          <table class="admin-users-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col" class="num">Balance</th>
                <th scope="col" class="num">Held</th>
                <th scope="col">Last activity (UTC)</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row) => (
                <tr data-user-id={row.id}>
                  <td data-label="Email">
                    <a href={`/admin/users/${row.id}`}>{row.email}</a>
                  </td>
                  <td data-label="Balance" class="num" data-mc={row.balance_mc}>
                    {creditsExactGroupedText(row.balance_mc)}
                  </td>
                  <td data-label="Held" class="num" data-mc={row.held_mc}>
                    {creditsExactGroupedText(row.held_mc)}
                  </td>
                  <td data-label="Last activity (UTC)">{utcDateTime(row.updated_at_ms)}</td>
                  <td data-label="Status">{[row.is_admin ? 'admin' : null, row.disabled_at_ms !== null ? 'disabled' : 'active'].filter(Boolean).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="User pages">
        {props.previousQuery ? <a href={`/admin/users${props.previousQuery}`} rel="prev">Previous</a> : null}
        {props.nextQuery ? <a href={`/admin/users${props.nextQuery}`} rel="next">Next</a> : null}
      </nav>
    </>
  );
}
