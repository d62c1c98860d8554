// What the usage and ledger tables share: the filter form's frame and date fields, the error block,
// and the footer with Newer/Older and the CSV link.
import type { Child } from 'hono/jsx';
import { Pager } from './pager.tsx';

export const invalid = (errors: Record<string, string>, name: string) => (errors[name] ? ('true' as const) : undefined);

/** A GET form that works without JavaScript and, with htmx, swaps `target` and pushes the URL. */
export function FilterForm(props: { id: string; path: string; target: string; oob?: boolean; children?: Child }) {
  return (
    <form
      id={props.id}
      class="filters"
      method="get"
      action={props.path}
      hx-get={props.path}
      hx-target={props.target}
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="change, submit"
      hx-swap-oob={props.oob ? 'true' : undefined}
    >
      {props.children}
      <div class="filters-actions">
        <button type="submit" class="secondary">
          Apply
        </button>
        <a href={props.path} class="reset-link">
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

export function FilterErrorList(props: { id: string; errors: Record<string, string> }) {
  return (
    <div id={props.id}>
      <div class="form-error" role="alert">
        {Object.values(props.errors).map((message) => (
          <p>{message}</p>
        ))}
      </div>
    </div>
  );
}

export function TableFooter(props: { label: string; basePath: string; target: string; newerQuery: string | null; olderQuery: string | null; csvHref: string }) {
  return (
    <div class="table-footer">
      <Pager label={props.label} basePath={props.basePath} target={props.target} newerQuery={props.newerQuery} olderQuery={props.olderQuery} />
      <a class="csv-link" href={props.csvHref} download>
        Download CSV
      </a>
    </div>
  );
}
