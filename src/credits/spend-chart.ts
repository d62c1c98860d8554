// Spend over time on the Credits tab: the range (a preset or a custom one) and grouping read from a
// query, and the chart's numbers (charged millicredits per UTC day, stacked by model or by key) from
// the daily rollup through usageSummary, never from the usage history.
import type { DB } from '../db/connect.ts';
import { DAY_MS, utcDay, utcMonthBounds } from '../month.ts';
import { parseUsageSummary, type FilterErrors } from '../filters.ts';
import { usageSummary } from '../usage/usage-summary.ts';

export const CHART_RANGES = ['last_30', 'last_7', 'this_month', 'last_month', 'custom'] as const;
export type ChartRange = (typeof CHART_RANGES)[number];
export const CHART_GROUPS = ['model', 'key', 'day'] as const;
/** day: one series (the day's total); model or key: one series per model or key, stacked. */
export type ChartGroup = (typeof CHART_GROUPS)[number];

/** The most series drawn; the rest are summed as one "other" series, so the legend and table stay bounded. */
export const CHART_MAX_SERIES = 6;

export interface ChartSelection {
  range: ChartRange;
  group: ChartGroup;
  /** UTC days, both inclusive. */
  fromDay: string;
  toDay: string;
}

type Query = Record<string, string | undefined>;

const text = (query: Query, name: string) => (query[name] ?? '').trim();

/**
 * range (default last_30; custom when only from/to are given), from and to (custom only: UTC days as
 * YYYY-MM-DD, checked as GET /v1/usage/summary checks them, at most a year), group (default model).
 * A bad value names its parameter.
 */
export function parseChartQuery(query: Query, nowMs: number): { ok: true; selection: ChartSelection; raw: Record<string, string> } | { ok: false; errors: FilterErrors; raw: Record<string, string> } {
  const raw = Object.fromEntries((['range', 'from', 'to', 'group'] as const).map((n) => [n, text(query, n).slice(0, 40)]).filter(([, v]) => v !== ''));
  const errors: FilterErrors = {};
  const rangeText = raw.range ?? (raw.from || raw.to ? 'custom' : 'last_30');
  const groupText = raw.group ?? 'model';
  if (!CHART_RANGES.includes(rangeText as ChartRange)) errors.range = `range must be one of ${CHART_RANGES.join(', ')}, got "${rangeText}"`;
  if (!CHART_GROUPS.includes(groupText as ChartGroup)) errors.group = `group must be one of ${CHART_GROUPS.join(', ')}, got "${groupText}"`;
  const today = nowMs - (nowMs % DAY_MS);
  let fromDay = utcDay(today - 29 * DAY_MS);
  let toDay = utcDay(today);
  if (rangeText === 'custom') {
    const parsed = parseUsageSummary({ from: raw.from, to: raw.to }, [], nowMs, [], []);
    if (parsed.ok) ({ fromDay, toDay } = parsed.summary);
    else Object.assign(errors, parsed.errors);
  } else if (rangeText === 'last_7') fromDay = utcDay(today - 6 * DAY_MS);
  else if (rangeText === 'this_month') fromDay = utcDay(utcMonthBounds(nowMs).startMs);
  else if (rangeText === 'last_month') {
    const thisMonthStart = utcMonthBounds(nowMs).startMs;
    fromDay = utcDay(utcMonthBounds(thisMonthStart - 1).startMs);
    toDay = utcDay(thisMonthStart - DAY_MS);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors, raw };
  // A preset keeps no dates in its URL: the link means the same range whenever it is opened.
  const canonical: Record<string, string> = { ...raw };
  if (rangeText !== 'custom') {
    delete canonical.from;
    delete canonical.to;
  }
  return { ok: true, selection: { range: rangeText as ChartRange, group: groupText as ChartGroup, fromDay, toDay }, raw: canonical };
}

/** A series as data: the view words it (a model's label, a key's name, "Playground", "Other"). */
export type SeriesId = { kind: 'total' } | { kind: 'model'; model: string } | { kind: 'key'; apiKeyId: number | null } | { kind: 'other'; count: number };

export interface SpendChart {
  selection: ChartSelection;
  /** Every day of the range, oldest first, with or without calls. */
  days: string[];
  series: SeriesId[];
  /** amountsMc[day index][series index]: charged millicredits. */
  amountsMc: number[][];
  /** Calls per day. */
  callsByDay: number[];
  seriesTotalsMc: number[];
  totalMc: number;
  calls: number;
}

function daysOf(fromDay: string, toDay: string): string[] {
  const days: string[] = [];
  for (let ms = Date.parse(`${fromDay}T00:00:00Z`); ms <= Date.parse(`${toDay}T00:00:00Z`); ms += DAY_MS) days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

export async function loadSpendChart(db: DB, userId: number, selection: ChartSelection): Promise<SpendChart> {
  const by = selection.group === 'day' ? [] : [selection.group];
  const { buckets } = await usageSummary(db, userId, { fromDay: selection.fromDay, toDay: selection.toDay, model: null, key: null }, ['day', ...by]);
  const idOf = (bucket: (typeof buckets)[number]): string => (selection.group === 'model' ? `m:${bucket.model}` : selection.group === 'key' ? `k:${bucket.apiKeyId ?? 'playground'}` : 'total');
  // The biggest spenders of the range get their own series, the rest share one.
  const totals = new Map<string, { id: SeriesId; mc: number }>();
  for (const bucket of buckets) {
    const id = idOf(bucket);
    const entry = totals.get(id) ?? {
      id: selection.group === 'model' ? { kind: 'model', model: bucket.model! } : selection.group === 'key' ? { kind: 'key', apiKeyId: bucket.apiKeyId ?? null } : { kind: 'total' },
      mc: 0,
    };
    entry.mc += bucket.chargedMc;
    totals.set(id, entry);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1].mc - a[1].mc || a[0].localeCompare(b[0]));
  const kept = ranked.length > CHART_MAX_SERIES ? ranked.slice(0, CHART_MAX_SERIES - 1) : ranked;
  const series: SeriesId[] = kept.map(([, entry]) => entry.id);
  const indexOf = new Map(kept.map(([id], index) => [id, index]));
  if (ranked.length > kept.length) series.push({ kind: 'other', count: ranked.length - kept.length });

  const days = daysOf(selection.fromDay, selection.toDay);
  const dayIndex = new Map(days.map((day, index) => [day, index]));
  const amountsMc = days.map(() => series.map(() => 0));
  const callsByDay = days.map(() => 0);
  for (const bucket of buckets) {
    const d = dayIndex.get(bucket.day!)!;
    amountsMc[d]![indexOf.get(idOf(bucket)) ?? series.length - 1]! += bucket.chargedMc;
    callsByDay[d]! += bucket.calls;
  }
  const seriesTotalsMc = series.map((_, s) => amountsMc.reduce((sum, row) => sum + row[s]!, 0));
  return {
    selection,
    days,
    series,
    amountsMc,
    callsByDay,
    seriesTotalsMc,
    totalMc: seriesTotalsMc.reduce((a, b) => a + b, 0),
    calls: callsByDay.reduce((a, b) => a + b, 0),
  };
}
