// UTC months: the unit of spend summaries and caps.

/** "2026-11" for any moment in November 2026, UTC. */
export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The first millisecond of the UTC month containing `ms`, and of the next one. */
export function utcMonthBounds(ms: number): { startMs: number; endMs: number } {
  const date = new Date(ms);
  return {
    startMs: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
    endMs: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
  };
}
