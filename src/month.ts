// UTC months and days: the units of spend summaries, caps and the daily usage rollup.

// Every settle names its month: the last month named is kept, so most calls format no date.
let lastMonth = { label: '', startMs: 0, endMs: 0 };

/** "2026-11" for any moment in November 2026, UTC. */
export function utcMonth(ms: number): string {
  if (ms >= lastMonth.startMs && ms < lastMonth.endMs) return lastMonth.label;
  const label = new Date(ms).toISOString().slice(0, 7);
  lastMonth = { label, ...utcMonthBounds(ms) };
  return label;
}

/** The first millisecond of the UTC month containing `ms`, and of the next one. */
export function utcMonthBounds(ms: number): { startMs: number; endMs: number } {
  const date = new Date(ms);
  return {
    startMs: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
    endMs: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
  };
}

export const DAY_MS = 86_400_000;

// Every usage row names its day: the last day named is kept, as for months (none at first).
let lastDay = { label: '', startMs: -Infinity };

/** "2026-11-05" for any moment of that UTC day. */
export function utcDay(ms: number): string {
  if (ms >= lastDay.startMs && ms < lastDay.startMs + DAY_MS) return lastDay.label;
  lastDay = { label: new Date(ms).toISOString().slice(0, 10), startMs: ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS) };
  return lastDay.label;
}
