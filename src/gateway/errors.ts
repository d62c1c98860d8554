// Named errors of a metered call, free of HTTP; src/errors/descriptions.ts describes each (status, code, message) in one place.

/** The request body is wrong: 400 with `param` naming the field. Nothing is written. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** The API key may not call this model (its allowed models, src/keys/controls.ts): 403. Nothing is held. */
export class ModelNotAllowedError extends Error {
  override name = 'ModelNotAllowedError';
  constructor(
    readonly model: string,
    readonly allowedModels: readonly string[],
  ) {
    super(`the API key may not call ${model}`);
  }
}

export interface OutOfCreditsDetails {
  /** The hold this call needs (or, without max_tokens, the smallest call accepted). */
  requiredMc: number;
  /** What the refusing budget still allows: for the balance, available = balance − held. */
  availableMc: number;
  heldMc: number;
  /** Output tokens per choice the budget pays for after the prompt. */
  maxAffordableOutputTokens: number;
  /** The output tokens per choice the call asked for (without max_tokens: the 256 minimum). */
  requestedOutputTokens: number;
  choices: number;
  /** Input tokens the hold reserves (counted + margin). */
  holdInputTokens: number;
  /** The body field that sets the output limit (max_tokens, max_output_tokens…), named in the advice; null when there is none (embeddings). */
  limitField: string | null;
  /** True when the budget does not even pay for the prompt. */
  promptNotCovered: boolean;
}

/** The hold could not be placed: 402 insufficient_credits. */
export class OutOfCreditsError extends Error {
  override name = 'OutOfCreditsError';
  constructor(readonly details: OutOfCreditsDetails) {
    super(`insufficient credits: required ${details.requiredMc} mc, available ${details.availableMc} mc`);
  }
}

/** The server is draining for a restart and takes no new calls. */
export class ShuttingDownError extends Error {
  override name = 'ShuttingDownError';
  constructor() {
    super('the server is shutting down');
  }
}

/**
 * How an upstream call failed. `rejected` is a 400/404/422 whose body is passed on; `auth` a
 * 401/403 (never echoed: it is about the operator's key); `broken` a connection lost mid-answer;
 * `failed` an answer the upstream itself reported as failed (a Responses `response.failed` or error event).
 */
export type UpstreamFailureKind = 'auth' | 'rate_limited' | 'rejected' | 'server' | 'timeout' | 'unreachable' | 'broken' | 'failed';

export interface UpstreamErrorFields {
  message: string;
  type: string | null;
  code: string | null;
  param: string | null;
}

export class UpstreamFailure extends Error {
  override name = 'UpstreamFailure';
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly upstreamStatus: number | null = null,
    /** The upstream's own error, only kept for `rejected` (the caller's mistake, safe to show). */
    readonly upstreamError: UpstreamErrorFields | null = null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(`upstream ${kind}${upstreamStatus ? ` (${upstreamStatus})` : ''}`);
  }
}

export type StopReason = 'client' | 'timeout' | 'shutdown';

/** The abort reason a call's own controller carries, so the end of the call knows who stopped it. */
export class CallStopped extends Error {
  override name = 'CallStopped';
  constructor(readonly reason: StopReason) {
    super(`call stopped: ${reason}`);
  }
}

/**
 * A call cut off by the client going away or by the server's shutdown (it was settled as aborted).
 * `midStream`: its answer's stream had begun, so it was charged for what was received.
 */
export class CallAbortedError extends Error {
  override name = 'CallAbortedError';
  constructor(
    readonly reason: 'client' | 'shutdown',
    readonly midStream = false,
  ) {
    super(reason === 'client' ? 'the client went away' : 'the server shut down during the call');
  }
}

/** A streamed call's charge could not be written: its hold stays for the sweeper, and the stream ends saying so. */
export class CallNotRecordedError extends Error {
  override name = 'CallNotRecordedError';
  constructor(override readonly cause: Error) {
    super(`the call could not be recorded: ${cause.name}: ${cause.message}`);
  }
}
