// CSV links (README, The Credits tab): the "Copy link" form beside each Download CSV, the new link it
// makes (shown once, with a Copy button), and the list of a user's links on the keys page with Revoke.
import type { CsvLink } from '../src/db/schema.ts';
import { CSV_LINK_DAYS, CSV_LINK_DEFAULT_DAYS, type CsvExportKind } from '../src/exports/csv-links.ts';
import { utcDateTime } from './time.ts';

const EXPORT_NAMES: Record<CsvExportKind, string> = { usage: 'Usage', ledger: 'Ledger' };

/**
 * Posts the export and its filters; without JavaScript the answer is a 303 to the keys page showing
 * the link, with htmx the link appears under the form and static/app.js copies it.
 */
export function CopyCsvLinkForm(props: { kind: CsvExportKind; query: string }) {
  const id = `csv-link-days-${props.kind}`;
  return (
    <form class="csv-link-form" method="post" action="/credits/csv-links" hx-post="/credits/csv-links" hx-target="find .csv-link-made" hx-swap="innerHTML" hx-disabled-elt="find button">
      <input type="hidden" name="export" value={props.kind} />
      <input type="hidden" name="query" value={props.query} />
      <label for={id}>Link works for</label>
      <select id={id} name="days">
        {CSV_LINK_DAYS.map((days) => (
          <option value={String(days)} selected={days === CSV_LINK_DEFAULT_DAYS}>
            {days === 1 ? '1 day' : `${days} days`}
          </option>
        ))}
      </select>
      <button type="submit" class="secondary">
        Copy link
      </button>
      <div class="csv-link-made" aria-live="polite"></div>
    </form>
  );
}

/** A new link, shown once: the secret is in it and only its hash is kept. */
export function NewCsvLink(props: { url: string; expiresAtMs: number; copyNow?: boolean }) {
  return (
    <div class="new-csv-link" hx-history="false">
      <p class="secret-row">
        <code id="new-csv-link-url" class="wrap-anywhere">
          {props.url}
        </code>{' '}
        <button type="button" class="secondary" data-copy-target="new-csv-link-url" data-copy-now={props.copyNow ? '' : undefined}>
          Copy
        </button>
      </p>
      <p class="muted">
        Read-only, works until {utcDateTime(props.expiresAtMs)} UTC. Anyone with it can read this export: revoke it on the <a href="/keys#csv-links">API keys page</a>. Shown only once.
      </p>
    </div>
  );
}

export interface CsvLinksSectionProps {
  links: CsvLink[];
  /** The link just made by a plain form (after its redirect). */
  newLink?: { url: string; expiresAtMs: number };
}

export function CsvLinksSection(props: CsvLinksSectionProps) {
  return (
    <section id="csv-links" aria-labelledby="csv-links-title">
      <h2 id="csv-links-title">CSV links</h2>
      <p class="muted">
        Links made with “Copy link” beside a Download CSV, for spreadsheets and tools that can only fetch a URL. Each reads one export with its filters, and nothing else.
      </p>
      {props.newLink ? (
        <div class="card">
          <h3>Your new CSV link</h3>
          <NewCsvLink url={props.newLink.url} expiresAtMs={props.newLink.expiresAtMs} />
        </div>
      ) : null}
      {props.links.length === 0 ? (
        <p class="muted">No CSV links.</p>
      ) : (
        <div class="table-wrap">
          <table class="csv-links-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Export</th>
                <th scope="col">Filters</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Expires (UTC)</th>
                <th scope="col">Last used (UTC)</th>
                <th scope="col">Revoke</th>
              </tr>
            </thead>
            <tbody>
              {props.links.map((link) => (
                <tr data-csv-link-id={link.id}>
                  <th scope="row">{EXPORT_NAMES[link.export_kind]}</th>
                  <td data-label="Filters">{link.query === '' ? 'none' : <code class="wrap-anywhere">{[...new URLSearchParams(link.query)].map(([name, value]) => `${name}=${value}`).join(' · ')}</code>}</td>
                  <td data-label="Created (UTC)">{utcDateTime(link.created_at_ms)}</td>
                  <td data-label="Expires (UTC)">{utcDateTime(link.expires_at_ms)}</td>
                  <td data-label="Last used (UTC)">{link.last_used_at_ms === null ? 'never' : utcDateTime(link.last_used_at_ms)}</td>
                  <td data-label="Revoke">
                    <form method="post" action={`/credits/csv-links/${link.id}/revoke`} hx-post={`/credits/csv-links/${link.id}/revoke`} hx-target="closest tr" hx-swap="outerHTML" hx-confirm="Revoke this CSV link? Tools using it will get 410 Gone.">
                      <button type="submit" class="secondary danger" aria-label={`Revoke the ${EXPORT_NAMES[link.export_kind].toLowerCase()} CSV link made ${utcDateTime(link.created_at_ms)}`}>
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
