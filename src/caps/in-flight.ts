// Calls in flight per key and per user: counted from pending holds inside the hold's transaction
// (spending-policy/call-limits.ts reads both counts), so the limits hold across processes.

/** A key's limit of calls in flight (null: none) and how many it has now. */
export interface KeyInFlight {
  max: number | null;
  current: number;
}

/** A call refused because its key, or its user over all keys and the playground, has its limit of calls in flight. */
export class TooManyInFlightError extends Error {
  override name = 'TooManyInFlightError';
  constructor(
    readonly scope: 'key' | 'user',
    readonly limit: number,
  ) {
    super(`the ${scope} already has ${limit} calls in flight`);
  }
}

/** Refuses a call when its key already has its limit of calls in flight. */
export function assertKeyHasRoom(inFlight: KeyInFlight | null): void {
  if (inFlight && inFlight.max !== null && inFlight.current >= inFlight.max) throw new TooManyInFlightError('key', inFlight.max);
}

/**
 * Refuses a call when its user already has `max` calls in flight, whichever keys (or the playground)
 * they came through: a user with many keys is held to one limit. Counted like the key's.
 */
export function assertUserHasRoom(userInFlight: number, max: number): void {
  if (userInFlight >= max) throw new TooManyInFlightError('user', max);
}
