// Dates for people: UTC, minute precision (seconds in the usage table), the same everywhere on the site.

/** 2026-11-26 18:56:07 UTC shown as "2026-11-26 18:56:07": the usage table, where calls a second apart are told apart. */
export function utcDateTimeSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** 2026-11-26 18:56 UTC shown as "2026-11-26 18:56". */
export function utcDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
