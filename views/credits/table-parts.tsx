// What the usage and ledger tables share: the filter form's frame and date fields, the error block,
// and the footer with Newer/Older the CSV download and its "Copy link".
import type { Child } from 'hono/jsx';
import { tableAnchor, type TablePath } from '../../src/credits/table-links.ts';
import { Pager } from './pager.tsx';
import { CopyCsvLinkForm } from '../csv-links.tsx';

export const invalid = (errors: Record<string, string>, name: string) => (errors[name] ? ('true' as const) : undefined);

/**
 * A GET form that works without JavaScript (landing at its table) and, with htmx, swaps `target`
 * and pushes the URL. A change waits for the next (each arrow key in a select, each digit of a
 * date is one), and while one request runs only the newest waits behind it, so answers arrive in
 * order and what was chosen last is shown (replacing the running one would abort it, which htmx
 * reports as an error). The browser is told not to refill it from memory: static/app.js keeps its
 * controls equal to the filters of the rows shown (`data-filters` on the results).
 */
export function FilterForm(props: { id: string; path: string; target: string; oob?: boolean; children?: Child }) {
  return (
    <form
      id={props.id}
      class="filters"
      method="get"
      action={`${props.path}${tableAnchor(props.path)}`}
      autocomplete="off"
      data-results={props.target}
      hx-get={props.path}
      hx-target={props.target}
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="change delay:600ms, submit"
      hx-sync="this:queue last"
      hx-swap-oob={props.oob ? 'true' : undefined}
    >
      {props.children}
      <div class="filters-actions">
        <button type="submit" class="secondary">
          Apply
        </button>
        <a href={`${props.path}${tableAnchor(props.path)}`} class="reset-link">
          Clear
        </a>
      </div>
    </form>
  );
}

export function DateFilters(props: { prefix: string; raw: Record<string, string>; errors: Record<string, string> }) {
  return (
    <>
      <div>
        <label for={`${props.prefix}-from`}>From (UTC)</label>
        <input id={`${props.prefix}-from`} name="from" type="date" value={props.raw.from ?? ''} aria-invalid={invalid(props.errors, 'from')} />
      </div>
      <div>
        <label for={`${props.prefix}-to`}>To (UTC)</label>
        <input id={`${props.prefix}-to`} name="to" type="date" value={props.raw.to ?? ''} aria-invalid={invalid(props.errors, 'to')} />
      </div>
    </>
  );
}

/** The query (without "?") of the rows a results block shows: static/app.js sets the filter controls from it. */
export const filtersData = (listQuery: string) => listQuery.replace(/^\?/, '');

/** A call's detail page, remembering the table page it was opened from for its "← Back" link. */
export function detailHref(requestId: string, from: TablePath, listQuery: string): string {
  const back = from === '/credits/usage' && listQuery === '' ? '' : `?back=${encodeURIComponent(`${from}${listQuery}`)}`;
  return `/credits/usage/${encodeURIComponent(requestId)}${back}`;
}

export function FilterErrorList(props: { id: string; errors: Record<string, string>; listQuery: string }) {
  return (
    <div id={props.id} data-filters={filtersData(props.listQuery)}>
      <div class="form-error" role="alert">
        {Object.values(props.errors).map((message) => (
          <p>{message}</p>
        ))}
      </div>
    </div>
  );
}

export function TableFooter(props: { label: string; basePath: TablePath; target: string; newerQuery: string | null; olderQuery: string | null; csvHref: string }) {
  return (
    <div class="table-footer">
      <Pager label={props.label} basePath={props.basePath} target={props.target} newerQuery={props.newerQuery} olderQuery={props.olderQuery} />
      <a class="csv-link" href={props.csvHref} download>
        Download CSV
      </a>
      <CopyCsvLinkForm kind={props.basePath === '/credits/usage' ? 'usage' : 'ledger'} query={props.csvHref.split('?')[1] ?? ''} />
    </div>
  );
}
