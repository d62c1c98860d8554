// UTC months: the unit of spend summaries and caps.

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
