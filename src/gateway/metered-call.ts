// One call in flight: its place in the in-flight registry, its stop switch (the client leaving, the
// upstream deadline, the server's shutdown), and once reserved, its hold and output limit.
import type { Hold, UsageEndpoint } from '../db/schema.ts';
import { CallStopped, type StopReason } from './errors.ts';
import type { InFlightCalls } from './in-flight.ts';
import { UpstreamAttempts } from './upstream-attempts.ts';
import type { UpstreamTarget } from './upstream-pool.ts';

/** Who pays: an API key's owner, or a signed-in user in the playground (no key). */
export interface Caller {
  userId: number;
  apiKeyId: number | null;
  /** The models the key may call; absent or null: every model (the playground, a key without the control). */
  allowedModels?: readonly string[] | null;
}

/** What every answer reports beside its body. */
export interface CallInfo {
  requestId: string;
  /** The lowered output limit when the gateway capped it (x-max-tokens-capped), else null. */
  cappedOutputTokens: number | null;
}

/** What the hold decided: set once by reserve.ts. */
export interface Reservation<Request> {
  request: Request;
  /** The surface's endpoint, written on the call's usage row. */
  endpoint: UsageEndpoint;
  hold: Hold;
  countedInputTokens: number;
  outputLimit: number;
  /** Where the call goes, in failover order (never empty). */
  upstreams: readonly UpstreamTarget[];
  capped: boolean;
}

export class MeteredCall<Request> {
  readonly controller = new AbortController();
  /** performance.now() when the call came in: latency_ms is measured from here. */
  readonly startedAtMs = performance.now();
  /** Set once a non-streamed call's hold is being placed: from then on the client leaving no longer stops it. */
  outlivesClient = false;
  /** Each upstream tried and how it ended, for the usage row. */
  readonly attempts = new UpstreamAttempts();
  private readonly leave: () => void;
  private deadline: ReturnType<typeof setTimeout> | null = null;
  private reservation: Reservation<Request> | null = null;
  private readonly onClientGone = () => {
    if (!this.outlivesClient) this.stop('client');
  };

  /** In flight from the first moment, so a drain that starts while this call is being reserved waits for it. */
  constructor(
    inFlight: InFlightCalls,
    readonly requestId: string,
    private readonly clientSignal: AbortSignal | undefined,
  ) {
    this.leave = inFlight.add({ requestId, stop: (reason) => this.stop(reason) });
    clientSignal?.addEventListener('abort', this.onClientGone, { once: true });
    if (this.clientGone()) this.stop('client');
  }

  stop(reason: StopReason): void {
    if (!this.controller.signal.aborted) this.controller.abort(new CallStopped(reason));
  }

  /** Who stopped the call, or null while it runs (or after an abort that was not a stop). */
  get stopReason(): StopReason | null {
    const { signal } = this.controller;
    return signal.aborted && signal.reason instanceof CallStopped ? signal.reason.reason : null;
  }

  /** True once the client has gone away (whether or not that stopped the call). */
  clientGone(): boolean {
    return this.clientSignal?.aborted === true;
  }

  /** The hold is placed: from here the upstream leg runs under its deadline. */
  reserved(reservation: Reservation<Request>, upstreamTimeoutMs: number): void {
    this.reservation = reservation;
    this.deadline = setTimeout(() => this.controller.abort(new CallStopped('timeout')), upstreamTimeoutMs);
  }

  get held(): Reservation<Request> {
    if (!this.reservation) throw new Error(`call ${this.requestId} has no hold yet`);
    return this.reservation;
  }

  get info(): CallInfo {
    const { capped, outputLimit } = this.held;
    return { requestId: this.requestId, cappedOutputTokens: capped ? outputLimit : null };
  }

  /** Stops listening, clears the deadline and leaves the in-flight registry: once the hold has ended (or none was placed). */
  finish(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.clientSignal?.removeEventListener('abort', this.onClientGone);
    this.leave();
  }
}
