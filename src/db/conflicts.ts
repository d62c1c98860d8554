// When two transactions collide on PostgreSQL: a deadlock (40P01) or a serialization failure (40001)
// rolls the loser back whole, so running it again is safe; how long to wait before that run, with
// jitter so the two do not collide again in step (docs/architecture.md, Two backends).

/** PostgreSQL's codes for "rolled back because of another transaction; try again". */
const RETRYABLE_CODES = new Set(['40P01', '40001']);

/** True when `error` is a deadlock or a serialization failure: the transaction was rolled back and may run again. */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/** How many times a transaction rolled back by a conflict is run again before its error is passed on. */
export const CONFLICT_RETRIES = 5;

/** The wait before run `attempt` (1, 2, …) again: up to 5 ms, doubling, each a random part of it. */
export function conflictRetryDelayMs(attempt: number): number {
  return Math.random() * 5 * 2 ** (attempt - 1);
}
