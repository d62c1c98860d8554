// Named domain errors of the ledger; the HTTP layer maps them to statuses in one place.

export class InsufficientCreditsError extends Error {
  override name = 'InsufficientCreditsError';
  constructor(
    readonly requiredMc: number,
    readonly availableMc: number,
    readonly heldMc: number,
  ) {
    super(`insufficient credits: required ${requiredMc} mc, available ${availableMc} mc`);
  }
}

export class HoldNotFoundError extends Error {
  override name = 'HoldNotFoundError';
  constructor(readonly holdId: number) {
    super(`hold ${holdId} does not exist`);
  }
}

/** A hold ends exactly once: settling or voiding one that already ended is refused. */
export class HoldAlreadyEndedError extends Error {
  override name = 'HoldAlreadyEndedError';
  constructor(
    readonly holdId: number,
    readonly status: string,
  ) {
    super(`hold ${holdId} already ended (${status})`);
  }
}

/** An idempotency key reused for a different credit: a caller bug, never silently accepted. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
  constructor(readonly key: string) {
    super(`idempotency key "${key}" was already used for a different entry`);
  }
}
