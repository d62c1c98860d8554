// Dates for people: UTC, minute precision, the same everywhere on the site.

/** 2026-11-26 18:56 UTC shown as "2026-11-26 18:56". */
export function utcDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
