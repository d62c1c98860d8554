// Spend over time: daily spend stacked by model or key as an SVG drawn on the server (no script, no
// inline style: colours come from classes in static/style.css), the same numbers as a table, and the
// form choosing the range and grouping. A form change swaps #spend-chart-results and pushes the URL.
import type { ApiKey } from '../../src/db/schema.ts';
import type { ChartGroup, SeriesId, SpendChart } from '../../src/credits/spend-chart.ts';
import { creditsExactGroupedText, creditsProseText, groupedCountText, usdRoundedUpText } from '../../src/money-text.ts';
import { keyLabel } from '../labels.ts';
import { filtersData, FilterErrorList, invalid } from './table-parts.tsx';
import { LabelText } from '../label-text.tsx';

export interface SpendChartSectionProps {
  raw: Record<string, string>;
  errors?: Record<string, string>;
  /** null when the form was refused. */
  chart: SpendChart | null;
  modelLabels: Map<string, string>;
  keys: Pick<ApiKey, 'id' | 'name' | 'prefix'>[];
  oob?: boolean;
}

const RANGE_OPTIONS = [
  ['last_30', 'Last 30 days'],
  ['last_7', 'Last 7 days'],
  ['this_month', 'This month'],
  ['last_month', 'Last month'],
  ['custom', 'Custom range'],
] as const;
const GROUP_OPTIONS: readonly (readonly [ChartGroup, string])[] = [
  ['model', 'By model'],
  ['key', 'By API key'],
  ['day', 'Total per day'],
];

function seriesLabel(series: SeriesId, props: Pick<SpendChartSectionProps, 'modelLabels' | 'keys'>): string {
  switch (series.kind) {
    case 'total':
      return 'Spend';
    case 'model':
      return props.modelLabels.get(series.model) ?? series.model;
    case 'key': {
      if (series.apiKeyId === null) return 'Playground';
      const key = props.keys.find((k) => k.id === series.apiKeyId);
      return key ? keyLabel(key) : `key ${series.apiKeyId}`;
    }
    case 'other':
      return `${series.count} others`;
  }
}

/**
 * The drawing's own units. The SVG scales to its box's width (static/style.css), so one drawing is made
 * for each shape of screen and the stylesheet shows one: the wide one on a desktop, and on a phone
 * one about as many units wide as the screen has pixels and nearly square, so its bars and labels
 * are read at their size instead of a desktop drawing squashed to a strip 110 px high.
 */
interface Geometry {
  className: 'spend-chart' | 'spend-chart-phone';
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  /** The ticks on the amount axis, at most. */
  steps: number;
}
const WIDE: Geometry = { className: 'spend-chart', width: 640, height: 220, plot: { left: 64, right: 8, top: 10, bottom: 26 }, steps: 4 };
const PHONE: Geometry = { className: 'spend-chart-phone', width: 360, height: 300, plot: { left: 52, right: 6, top: 10, bottom: 24 }, steps: 5 };

/** A round axis top and step for the tallest day: 1, 2 or 5 times a power of ten, `steps` steps at most. */
function axis(maxMc: number, steps: number): { stepMc: number; topMc: number } {
  if (maxMc <= 0) return { stepMc: 1_000, topMc: 4_000 };
  const rough = maxMc / steps;
  const power = 10 ** Math.floor(Math.log10(rough));
  const stepMc = [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough)!;
  return { stepMc: Math.max(1, Math.round(stepMc)), topMc: Math.max(1, Math.round(stepMc)) * Math.ceil(maxMc / stepMc) };
}

const at = (n: number) => String(Math.round(n * 100) / 100);

function ChartSvg(props: { chart: SpendChart; labels: string[]; geometry: Geometry }) {
  const { chart, geometry: g } = props;
  const dayTotals = chart.amountsMc.map((row) => row.reduce((a, b) => a + b, 0));
  const { stepMc, topMc } = axis(Math.max(...dayTotals), g.steps);
  const plotWidth = g.width - g.plot.left - g.plot.right;
  const plotHeight = g.height - g.plot.top - g.plot.bottom;
  const slot = plotWidth / chart.days.length;
  const barWidth = Math.max(1, slot * 0.72);
  const y = (mc: number) => g.plot.top + plotHeight - (mc / topMc) * plotHeight;
  const ticks: number[] = [];
  for (let mc = 0; mc <= topMc; mc += stepMc) ticks.push(mc);
  // First, middle and last day under the axis: enough to read the range at a phone's width.
  const dayLabels = [...new Set([0, Math.floor((chart.days.length - 1) / 2), chart.days.length - 1])];
  const titleId = `${g.className}-svg-title`;
  return (
    <svg class={g.className} viewBox={`0 0 ${g.width} ${g.height}`} role="img" aria-labelledby={titleId}>
      <title id={titleId}>
        Daily spend from {chart.selection.fromDay} to {chart.selection.toDay}: {creditsProseText(chart.totalMc)} credits in all. The table below has every number.
      </title>
      {ticks.map((mc) => (
        <g class="tick">
          <line x1={at(g.plot.left)} x2={at(g.width - g.plot.right)} y1={at(y(mc))} y2={at(y(mc))} />
          <text x={at(g.plot.left - 6)} y={at(y(mc) + 4)} text-anchor="end">
            {creditsProseText(mc)}
          </text>
        </g>
      ))}
      {chart.days.map((day, d) => {
        let base = 0;
        return chart.series.map((_, s) => {
          const mc = chart.amountsMc[d]![s]!;
          if (mc === 0) return null;
          const top = y(base + mc);
          const height = y(base) - top;
          base += mc;
          return (
            <rect class={`bar series-${s}`} x={at(g.plot.left + d * slot + (slot - barWidth) / 2)} y={at(top)} width={at(barWidth)} height={at(Math.max(height, 0.5))} data-day={day} data-series={s} data-mc={mc}>
              <title>
                {day} · {props.labels[s]}: {creditsExactGroupedText(mc)} credits
              </title>
            </rect>
          );
        });
      })}
      {dayLabels.map((d) => (
        <text class="day-label" x={at(g.plot.left + d * slot + slot / 2)} y={at(g.height - 8)} text-anchor={d === 0 && chart.days.length > 1 ? 'start' : d === chart.days.length - 1 && chart.days.length > 1 ? 'end' : 'middle'}>
          {chart.days[d]!.slice(5)}
        </text>
      ))}
    </svg>
  );
}

/** A day's row, or the range's total row: each series' credits (when stacked), the total in credits and USD, the calls. */
function AmountsRow(props: { rowHeader: string; day?: string; amountsMc: number[] | null; totalMc: number; calls: number; labels: string[] }) {
  return (
    <tr data-day={props.day} class={props.day ? undefined : 'range-total'}>
      <th scope="row">{props.rowHeader}</th>
      {props.amountsMc?.map((mc, s) => (
        <td class="num" data-label={props.labels[s]} data-series={s} data-mc={mc}>
          {creditsExactGroupedText(mc)}
        </td>
      ))}
      <td class={props.day ? 'num day-total' : 'num'} data-label="Total credits" data-mc={props.totalMc}>
        {creditsExactGroupedText(props.totalMc)}
      </td>
      <td class="num" data-label="Total USD">{usdRoundedUpText(props.totalMc)}</td>
      <td class="num" data-label="Calls">{groupedCountText(props.calls)}</td>
    </tr>
  );
}

function ChartTable(props: { chart: SpendChart; labels: string[]; group: ChartGroup }) {
  const { chart } = props;
  const stacked = props.group !== 'day';
  const rows = chart.days.map((day, d) => ({ day, amounts: chart.amountsMc[d]!, calls: chart.callsByDay[d]! })).filter((row) => row.calls > 0);
  const rowTotal = (amounts: number[]) => amounts.reduce((a, b) => a + b, 0);
  // Folded by default (a month of days stacked on a phone is long); open, or read by a screen reader, it is the chart's numbers.
  return (
    <details class="chart-numbers">
      <summary>Day by day, as a table</summary>
      <div class="table-wrap">
        <table class="spend-chart-table stack-on-phone">
          <caption>Credits spent per day (UTC); days without calls are left out</caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              {stacked ? props.labels.map((label) => <th scope="col" class="num">{label}</th>) : null}
              <th scope="col" class="num">Total credits</th>
              <th scope="col" class="num">Total USD</th>
              <th scope="col" class="num">Calls</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <AmountsRow rowHeader={row.day} day={row.day} amountsMc={stacked ? row.amounts : null} totalMc={rowTotal(row.amounts)} calls={row.calls} labels={props.labels} />
            ))}
          </tbody>
          <tfoot>
            <AmountsRow rowHeader="Total" amountsMc={stacked ? chart.seriesTotalsMc : null} totalMc={chart.totalMc} calls={chart.calls} labels={props.labels} />
          </tfoot>
        </table>
      </div>
    </details>
  );
}

export function SpendChartResults(props: SpendChartSectionProps) {
  const query = new URLSearchParams(props.raw).toString();
  if (props.errors && Object.keys(props.errors).length > 0) return <FilterErrorList id="spend-chart-results" errors={props.errors} listQuery={query} />;
  const chart = props.chart!;
  const labels = chart.series.map((series) => seriesLabel(series, props));
  return (
    <div id="spend-chart-results" data-filters={filtersData(query)}>
      <p class="chart-range">
        <span class="range-total-credits" data-mc={chart.totalMc}>
          {creditsExactGroupedText(chart.totalMc)}
        </span>{' '}
        credits (≈ {usdRoundedUpText(chart.totalMc)}) over {groupedCountText(chart.calls)} {chart.calls === 1 ? 'call' : 'calls'} from {chart.selection.fromDay} to {chart.selection.toDay} (UTC)
      </p>
      {chart.calls === 0 ? (
        <p class="muted">No calls in this range.</p>
      ) : (
        <>
          <ChartSvg chart={chart} labels={labels} geometry={WIDE} />
          <ChartSvg chart={chart} labels={labels} geometry={PHONE} />
          <ul class="chart-legend">
            {labels.map((label, s) => (
              <li data-series={s}>
                <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">
                  <rect class={`series-${s}`} width="10" height="10" />
                </svg>
                <LabelText text={label} />: <span data-mc={chart.seriesTotalsMc[s]}>{creditsExactGroupedText(chart.seriesTotalsMc[s]!)}</span>
              </li>
            ))}
          </ul>
          <ChartTable chart={chart} labels={labels} group={chart.selection.group} />
        </>
      )}
    </div>
  );
}

/** A labelled select of the chart's form, marked when its value was refused. */
function ChoiceField(props: { name: 'range' | 'group'; label: string; options: readonly (readonly [string, string])[]; chosen: string; errors: Record<string, string> }) {
  return (
    <div>
      <label for={`chart-${props.name}`}>{props.label}</label>
      <select id={`chart-${props.name}`} name={props.name} aria-invalid={invalid(props.errors, props.name)}>
        {props.options.map(([value, label]) => (
          <option value={value} selected={props.chosen === value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** GET, so it works without JavaScript (landing at the chart); with htmx only the results are swapped. */
export function SpendChartFilters(props: SpendChartSectionProps) {
  const errors = props.errors ?? {};
  const range = props.raw.range ?? (props.raw.from || props.raw.to ? 'custom' : 'last_30');
  const group = props.raw.group ?? 'model';
  return (
    <form
      id="spend-chart-filters"
      class="filters"
      method="get"
      action="/credits/chart#spend-chart"
      autocomplete="off"
      data-results="#spend-chart-results"
      hx-get="/credits/chart"
      hx-target="#spend-chart-results"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="change delay:600ms, submit"
      hx-sync="this:queue last"
      hx-swap-oob={props.oob ? 'true' : undefined}
    >
      <ChoiceField name="range" label="Range" options={RANGE_OPTIONS} chosen={range} errors={errors} />
      <div>
        <label for="chart-from">From (custom, UTC)</label>
        <input id="chart-from" name="from" type="date" value={props.raw.from ?? ''} aria-invalid={invalid(errors, 'from')} />
      </div>
      <div>
        <label for="chart-to">To (custom, UTC)</label>
        <input id="chart-to" name="to" type="date" value={props.raw.to ?? ''} aria-invalid={invalid(errors, 'to')} />
      </div>
      <ChoiceField name="group" label="Group" options={GROUP_OPTIONS} chosen={group} errors={errors} />
      <div class="filters-actions">
        <button type="submit" class="secondary">
          Apply
        </button>
      </div>
    </form>
  );
}

export function SpendChartSection(props: SpendChartSectionProps) {
  return (
    <section id="spend-chart" aria-labelledby="spend-chart-title">
      <h2 id="spend-chart-title">Spend over time</h2>
      <SpendChartFilters {...props} />
      <SpendChartResults {...props} />
    </section>
  );
}
