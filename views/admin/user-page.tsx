// /admin/users/:id: one user as the operator sees them — wallet, keys, sessions, purchases (refunds,
// clawback and shortfall; status only, no owner's Resume or Cancel), usage and ledger (the user's own
// tables with their filters and keyset pages, at this page's own URLs), the actions (each asks for a
// reason) and their log.
import type { AdminActionRow } from '../../src/admin/actions.ts';
import type { AdminPurchaseRow } from '../../src/admin/purchases.ts';
import type { ApiKey, Session, User } from '../../src/db/schema.ts';
import type { WalletSummary } from '../../src/ledger/wallet.ts';
import { creditsExactGroupedText, groupedCountText } from '../../src/money-text.ts';
import { LedgerSection, type LedgerResultsProps } from '../credits/ledger-table.tsx';
import { UsageSection, type UsageFiltersProps, type UsageResultsProps } from '../credits/usage-table.tsx';
import { AdminPurchasesTable } from './purchases.tsx';
import { utcDateTime } from '../time.ts';
import { ActionsLog } from './actions-log.tsx';

/** Which form was sent and what was wrong with it: re-rendered with what was typed. */
export interface FormProblem {
  form: string;
  errors: Record<string, string>;
  values: Record<string, string>;
}

export interface AdminUserProps {
  user: User;
  wallet: WalletSummary;
  keys: ApiKey[];
  sessions: Pick<Session, 'created_at_ms' | 'expires_at_ms'>[];
  /** A keyset page of the user's purchases; the queries lead to /admin/users/:id/purchases. */
  purchases: { rows: AdminPurchaseRow[]; newerQuery: string | null; olderQuery: string | null; error: string | null };
  usage: { filters: UsageFiltersProps; results: UsageResultsProps };
  ledger: { raw: Record<string, string>; filterErrors?: Record<string, string>; path: string; results: LedgerResultsProps };
  actions: AdminActionRow[];
  problem: FormProblem | null;
  notice: string | null;
  /** The admin looking: may not disable themselves. */
  self: boolean;
}

function FieldError(props: { problem: FormProblem | null; form: string; name: string }) {
  const message = props.problem?.form === props.form ? props.problem.errors[props.name] : undefined;
  return message ? <p class="field-error" id={`${props.form}-${props.name}-error`}>{message}</p> : null;
}

const valueOf = (problem: FormProblem | null, form: string, name: string) => (problem?.form === form ? (problem.values[name] ?? '') : '');

function Reason(props: { problem: FormProblem | null; form: string }) {
  return (
    <div class="field">
      <label for={`${props.form}-reason`}>Reason</label>
      <input id={`${props.form}-reason`} name="reason" type="text" required maxlength={500} value={valueOf(props.problem, props.form, 'reason')} aria-invalid={props.problem?.form === props.form && props.problem.errors.reason ? 'true' : undefined} />
      <FieldError problem={props.problem} form={props.form} name="reason" />
    </div>
  );
}

function MoneyForm(props: { id: string; action: string; title: string; hint: string; problem: FormProblem | null }) {
  return (
    <form id={props.id} class="card form" method="post" action={props.action}>
      <h3>{props.title}</h3>
      <div class="field">
        <label for={`${props.id}-amount`}>Credits</label>
        <p class="hint muted">{props.hint}</p>
        <input id={`${props.id}-amount`} name="amount" type="text" inputmode="decimal" required value={valueOf(props.problem, props.id, 'amount')} aria-invalid={props.problem?.form === props.id && props.problem.errors.amount ? 'true' : undefined} />
        <FieldError problem={props.problem} form={props.id} name="amount" />
      </div>
      <Reason problem={props.problem} form={props.id} />
      <button type="submit">{props.title}</button>
    </form>
  );
}

export function AdminUserPage(props: AdminUserProps) {
  const { user, wallet, problem } = props;
  const base = `/admin/users/${user.id}`;
  return (
    <>
      <h1 class="admin-user-email">{user.email}</h1>
      <p class="muted">
        User {user.id} · since {utcDateTime(user.created_at_ms)} UTC{user.is_admin ? ' · admin' : ''} ·{' '}
        <strong class="account-status">{user.disabled_at_ms === null ? 'active' : `disabled since ${utcDateTime(user.disabled_at_ms)} UTC`}</strong>
      </p>
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      <section class="card" id="admin-wallet" aria-label="Wallet">
        <dl class="admin-wallet">
          <dt>Balance</dt>
          <dd data-mc={wallet.balanceMc} class="wallet-balance">{creditsExactGroupedText(wallet.balanceMc)}</dd>
          <dt>Held</dt>
          <dd data-mc={wallet.heldMc} class="wallet-held">{creditsExactGroupedText(wallet.heldMc)}</dd>
          <dt>Available</dt>
          <dd data-mc={wallet.availableMc} class="wallet-available">{creditsExactGroupedText(wallet.availableMc)}</dd>
          <dt>Calls in flight</dt>
          <dd class="wallet-in-flight">{groupedCountText(wallet.heldCalls)}</dd>
        </dl>
      </section>

      <section id="admin-user-actions" aria-labelledby="admin-user-actions-title">
        <h2 id="admin-user-actions-title">Actions</h2>
        <MoneyForm id="grant" action={`${base}/grant`} title="Grant" hint="Adds credits (a ledger grant), e.g. 25 or 0.5." problem={problem} />
        <MoneyForm id="adjust" action={`${base}/adjust`} title="Adjust" hint="Adds or, negative, takes credits; never more than the available credits (held ones are reserved for calls in flight)." problem={problem} />
        <form id="end-sessions" class="card form" method="post" action={`${base}/end-sessions`}>
          <h3>End sessions</h3>
          <p class="muted">Signs the user out everywhere ({groupedCountText(props.sessions.length)} sessions).</p>
          <Reason problem={problem} form="end-sessions" />
          <button type="submit">End sessions</button>
        </form>
        {user.disabled_at_ms === null ? (
          props.self ? null : (
            <form id="disable" class="card form" method="post" action={`${base}/disable`}>
              <h3>Disable</h3>
              <p class="muted">No sign-in and no API calls (403 account_disabled) until enabled again; sessions end now.</p>
              <Reason problem={problem} form="disable" />
              <button type="submit" class="danger-solid">Disable</button>
            </form>
          )
        ) : (
          <form id="enable" class="card form" method="post" action={`${base}/enable`}>
            <h3>Enable</h3>
            <p class="muted">Sign-in and API keys work again.</p>
            <Reason problem={problem} form="enable" />
            <button type="submit">Enable</button>
          </form>
        )}
      </section>

      <section id="admin-keys" aria-labelledby="admin-keys-title">
        <h2 id="admin-keys-title">API keys</h2>
        {props.keys.length === 0 ? (
          <p class="muted">No API keys.</p>
        ) : (
          <div class="table-wrap">
            <table class="admin-keys-table stack-on-phone">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Last used (UTC)</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {props.keys.map((key) => (
                  <tr data-key-id={key.id}>
                    <td data-label="Name">{key.name}</td>
                    <td data-label="Key">
                      <code>{key.prefix}…</code>
                    </td>
                    <td data-label="Last used (UTC)">{key.last_used_at_ms === null ? 'never' : utcDateTime(key.last_used_at_ms)}</td>
                    <td data-label="Status">
                      {key.revoked_at_ms !== null ? (
                        <span>revoked {utcDateTime(key.revoked_at_ms)}</span>
                      ) : (
                        <form id={`revoke-key-${key.id}`} class="inline-form" method="post" action={`${base}/keys/${key.id}/revoke`}>
                          <Reason problem={problem} form={`revoke-key-${key.id}`} />
                          <button type="submit" class="danger-solid">Revoke</button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section id="admin-sessions" aria-labelledby="admin-sessions-title">
        <h2 id="admin-sessions-title">Sessions</h2>
        {props.sessions.length === 0 ? (
          <p class="muted">Not signed in anywhere.</p>
        ) : (
          <ul class="admin-sessions">
            {props.sessions.map((session) => (
              <li>
                Signed in {utcDateTime(session.created_at_ms)} UTC, until {utcDateTime(session.expires_at_ms)} UTC
              </li>
            ))}
          </ul>
        )}
      </section>

      <section id="purchases" aria-labelledby="admin-purchases-title">
        <h2 id="admin-purchases-title">Purchases</h2>
        {props.purchases.error ? (
          <p class="form-error" role="alert">
            {props.purchases.error} <a href={`${base}/purchases#purchases`}>First page</a>
          </p>
        ) : (
          <AdminPurchasesTable rows={props.purchases.rows} />
        )}
        <nav class="pager" aria-label="Purchase pages">
          {props.purchases.newerQuery ? <a href={`${base}/purchases${props.purchases.newerQuery}#purchases`} rel="prev">Newer</a> : null}
          {props.purchases.olderQuery ? <a href={`${base}/purchases${props.purchases.olderQuery}#purchases`} rel="next">Older</a> : null}
        </nav>
      </section>
      <UsageSection filters={props.usage.filters} results={props.usage.results} />
      <LedgerSection raw={props.ledger.raw} filterErrors={props.ledger.filterErrors} path={props.ledger.path} results={props.ledger.results} />
      <ActionsLog rows={props.actions} />
    </>
  );
}
