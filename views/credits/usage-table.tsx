// The usage table with its filters (model, API key, dates), Newer/Older pages and the CSV link.
// A filter or page change swaps only #usage-results and pushes the URL; that URL renders the full page.
import type { ApiKey, Rate, Usage } from '../../src/db/schema.ts';
import { groupedCountText, creditsExactGroupedText } from '../../src/money-text.ts';
import { utcDateTimeSeconds } from '../time.ts';
import { FirstCall } from './first-call.tsx';
import { Pager } from './pager.tsx';
import { DateFilters, detailHref, FilterErrorList, FilterForm, filtersData, invalid, TableFooter } from './table-parts.tsx';
import { modelLabel } from '../../src/pricing/rates.ts';
import { keyLabel } from '../labels.ts';
import { LabelText } from '../label-text.tsx';

export interface UsageResultsProps {
  rows: Usage[];
  /** The query of the page shown (filters and cursor): the rows' links remember it. */
  listQuery: string;
  modelLabels: Map<string, string>;
  newerQuery: string | null;
  olderQuery: string | null;
  csvHref: string;
  /** The user has no usage at all (not just none matching the filters). */
  noUsageYet: boolean;
  publicUrl: string;
  /** Each of the user's keys (revoked ones too) by id, as the API key column names it. */
  keyLabels: Map<number, string>;
  errors?: Record<string, string>;
  /**
   * Shown on another user's behalf at `basePath` (the admin console's page of a user): the pager
   * leads there; no CSV or detail links, which lead to the signed-in user's own pages.
   */
  embedded?: { basePath: string };
}

const STATUS_TEXT: Record<Usage['status'], string> = { ok: 'OK', aborted: 'Aborted', upstream_error: 'Upstream error' };

/** The day and the time each kept whole, so a narrow column breaks between them, not inside the date. */
function WhenText(props: { ms: number }) {
  const [day, time] = utcDateTimeSeconds(props.ms).split(' ');
  return (
    <span class="when">
      <span>{day}</span> <span>{time}</span>
    </span>
  );
}

export function UsageResults(props: UsageResultsProps) {
  const errors = props.errors ?? {};
  if (Object.keys(errors).length > 0) return <FilterErrorList id="usage-results" errors={errors} listQuery={props.listQuery} />;
  if (props.noUsageYet) {
    return (
      <div id="usage-results" data-filters={filtersData(props.listQuery)}>
        <FirstCall publicUrl={props.publicUrl} />
      </div>
    );
  }
  return (
    <div id="usage-results" data-filters={filtersData(props.listQuery)}>
      {props.rows.length === 0 ? (
        <p class="muted">No calls match these filters.</p>
      ) : (
        <div class="table-wrap">
          <table class="usage-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">Model</th>
                <th scope="col">API key</th>
                <th scope="col" class="num">Input</th>
                <th scope="col" class="num">Output</th>
                <th scope="col" class="num">Charged credits</th>
                <th scope="col">Status</th>
                <th scope="col">Request ID</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row) => (
                <tr data-request-id={row.request_id}>
                  <td data-label="Date (UTC)">
                    <WhenText ms={row.created_at_ms} />
                  </td>
                  <td data-label="Model">
                    <LabelText text={props.modelLabels.get(row.model) ?? row.model} />
                  </td>
                  <td data-label="API key" class="key-name">{row.api_key_id === null ? 'Playground' : (props.keyLabels.get(row.api_key_id) ?? `key ${row.api_key_id}`)}</td>
                  <td data-label="Input" class="num">{groupedCountText(row.input_tokens)}</td>
                  <td data-label="Output" class="num">{groupedCountText(row.output_tokens)}</td>
                  <td data-label="Charged credits" class="num" data-mc={row.charged_mc}>
                    {creditsExactGroupedText(row.charged_mc)}
                  </td>
                  <td data-label="Status">
                    <span>
                      <span class={`status status-${row.status}`}>{STATUS_TEXT[row.status]}</span>
                      {row.estimated ? <span class="muted"> · estimated</span> : null}
                    </span>
                  </td>
                  <td data-label="Request ID">
                    {props.embedded ? (
                      <code>{row.request_id}</code>
                    ) : (
                      <a href={detailHref(row.request_id, '/credits/usage', props.listQuery)} title={row.request_id}>
                        <code>{row.request_id}</code>
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.embedded ? (
        <Pager label="Usage pages" basePath={props.embedded.basePath} target="#usage-results" newerQuery={props.newerQuery} olderQuery={props.olderQuery} />
      ) : (
        <TableFooter label="Usage pages" basePath="/credits/usage" target="#usage-results" newerQuery={props.newerQuery} olderQuery={props.olderQuery} csvHref={props.csvHref} />
      )}
    </div>
  );
}

export interface UsageFiltersProps {
  raw: Record<string, string>;
  rates: Rate[];
  keys: Pick<ApiKey, 'id' | 'name' | 'prefix'>[];
  errors?: Record<string, string>;
  oob?: boolean;
  /** Where the form leads: the Credits tab's table, or the admin console's copy of it. */
  path?: string;
}

export function UsageFilters(props: UsageFiltersProps) {
  const errors = props.errors ?? {};
  return (
    <FilterForm id="usage-filters" path={props.path ?? '/credits/usage'} target="#usage-results" oob={props.oob}>
      <div>
        <label for="usage-model">Model</label>
        <select id="usage-model" name="model" aria-invalid={invalid(errors, 'model')}>
          <option value="">All models</option>
          {props.rates.map((r) => (
            <option value={r.model} selected={props.raw.model === r.model}>
              {modelLabel(r)}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="usage-key">API key</label>
        <select id="usage-key" name="key" aria-invalid={invalid(errors, 'key')}>
          <option value="">All keys</option>
          <option value="playground" selected={props.raw.key === 'playground'}>
            Playground (no key)
          </option>
          {props.keys.map((k) => (
            <option value={String(k.id)} selected={props.raw.key === String(k.id)}>
              {keyLabel(k)}
            </option>
          ))}
        </select>
      </div>
      <DateFilters prefix="usage" raw={props.raw} errors={errors} />
    </FilterForm>
  );
}

export function UsageSection(props: { filters: UsageFiltersProps; results: UsageResultsProps }) {
  return (
    <section id="usage" aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <UsageFilters {...props.filters} />
      <UsageResults {...props.results} />
    </section>
  );
}

