// The ledger table: every credit and debit with the balance after it, filterable by type and dates.
import type { LedgerEntry, LedgerEntryType } from '../../src/db/schema.ts';
import { LEDGER_TYPES } from '../../src/filters.ts';
import { creditsExactGroupedText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';
import { Pager } from './pager.tsx';
import { DateFilters, detailHref, FilterErrorList, FilterForm, filtersData, invalid, TableFooter } from './table-parts.tsx';

export const LEDGER_TYPE_TEXT: Record<LedgerEntryType, string> = {
  purchase: 'Purchase',
  auto_recharge: 'Auto-recharge',
  grant: 'Grant',
  usage: 'Usage',
  refund: 'Refund',
  adjustment: 'Adjustment',
  promo: 'Promo code',
  expiry: 'Promo expired',
};

/** Usage entries link to their call (which leads back to this page); purchases and recharges (Stripe ids) to their receipt. */
function Reference(props: { entry: LedgerEntry; listQuery: string; embedded?: boolean }) {
  const { entry } = props;
  if (props.embedded) return <span>{entry.reference}</span>;
  if (entry.type === 'usage') return <a href={detailHref(entry.reference, '/credits/ledger', props.listQuery)} title={entry.reference}><code>{entry.reference}</code></a>;
  if (/^(cs|pi)_/.test(entry.reference)) return <a href={`/credits/receipts/${encodeURIComponent(entry.reference)}`}>Receipt</a>;
  return <span>{entry.reference}</span>;
}

export interface LedgerResultsProps {
  rows: LedgerEntry[];
  /** The query of the page shown (filters and cursor): the rows' links remember it. */
  listQuery: string;
  newerQuery: string | null;
  olderQuery: string | null;
  csvHref: string;
  errors?: Record<string, string>;
  /** Shown on another user's behalf at `basePath` (the admin console): the pager leads there; no CSV or links to the signed-in user's own pages. */
  embedded?: { basePath: string };
}

export function LedgerResults(props: LedgerResultsProps) {
  const errors = props.errors ?? {};
  if (Object.keys(errors).length > 0) return <FilterErrorList id="ledger-results" errors={errors} listQuery={props.listQuery} />;
  // No filters and nothing on the first page: the account has no entry at all yet, nothing to page or download.
  if (props.rows.length === 0 && props.listQuery === '') {
    return (
      <div id="ledger-results" data-filters={filtersData(props.listQuery)}>
        <p class="muted empty-ledger">No entries yet. Each purchase, grant and call will be listed here with the balance after it.</p>
      </div>
    );
  }
  return (
    <div id="ledger-results" data-filters={filtersData(props.listQuery)}>
      {props.rows.length === 0 ? (
        <p class="muted">No ledger entries match these filters.</p>
      ) : (
        <div class="table-wrap">
          <table class="ledger-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">Amount</th>
                <th scope="col" class="num">Balance after</th>
                <th scope="col">Reference</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((entry) => (
                <tr data-entry-id={entry.id}>
                  <td data-label="Date (UTC)">{utcDateTime(entry.created_at_ms)}</td>
                  <td data-label="Type">{LEDGER_TYPE_TEXT[entry.type]}</td>
                  <td data-label="Amount" class={`num ${entry.amount_mc < 0 ? 'debit' : 'credit'}`} data-mc={entry.amount_mc}>
                    {entry.amount_mc > 0 ? '+' : ''}
                    {creditsExactGroupedText(entry.amount_mc)}
                  </td>
                  <td data-label="Balance after" class="num balance-after" data-mc={entry.balance_after_mc}>
                    {creditsExactGroupedText(entry.balance_after_mc)}
                  </td>
                  <td data-label="Reference">
                    <Reference entry={entry} listQuery={props.listQuery} embedded={props.embedded !== undefined} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.embedded ? (
        <Pager label="Ledger pages" basePath={props.embedded.basePath} target="#ledger-results" newerQuery={props.newerQuery} olderQuery={props.olderQuery} />
      ) : (
        <TableFooter label="Ledger pages" basePath="/credits/ledger" target="#ledger-results" newerQuery={props.newerQuery} olderQuery={props.olderQuery} csvHref={props.csvHref} />
      )}
    </div>
  );
}

/** `path`: where the form leads, the Credits tab's table or the admin console's copy of it. */
export function LedgerFilters(props: { raw: Record<string, string>; errors?: Record<string, string>; oob?: boolean; path?: string }) {
  const errors = props.errors ?? {};
  return (
    <FilterForm id="ledger-filters" path={props.path ?? '/credits/ledger'} target="#ledger-results" oob={props.oob}>
      <div>
        <label for="ledger-type">Type</label>
        <select id="ledger-type" name="type" aria-invalid={invalid(errors, 'type')}>
          <option value="">All types</option>
          {LEDGER_TYPES.map((type) => (
            <option value={type} selected={props.raw.type === type}>
              {LEDGER_TYPE_TEXT[type]}
            </option>
          ))}
        </select>
      </div>
      <DateFilters prefix="ledger" raw={props.raw} errors={errors} />
    </FilterForm>
  );
}

export function LedgerSection(props: { raw: Record<string, string>; filterErrors?: Record<string, string>; results: LedgerResultsProps; path?: string }) {
  return (
    <section id="ledger" aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger</h2>
      <LedgerFilters raw={props.raw} errors={props.filterErrors} path={props.path} />
      <LedgerResults {...props.results} />
    </section>
  );
}
