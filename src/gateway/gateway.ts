// One metered call, free of HTTP (docs/architecture.md, How a call flows): admitted in flight, reserved
// (reserve.ts), then answered whole (complete.ts) or streamed (stream.ts), settled or voided (settle.ts).
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import type { Clock } from '../clock.ts';
import type { RoundingMode } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { LeaseRef } from '../db/leases.ts';
import { createHoldBatcher, type HoldBatcher } from '../ledger/hold-batch.ts';
import { voidHold } from '../ledger/holds.ts';
import { createSettleBatcher, type SettleBatcher } from '../ledger/settle-batch.ts';
import type { ChatRequest } from './chat-request.ts';
import { chatSurface } from './chat-surface.ts';
import { runCompletion, type CompletedCall } from './complete.ts';
import { embeddingSurface } from './embedding-surface.ts';
import { ShuttingDownError } from './errors.ts';
import { NO_GATEWAY_EVENTS, type GatewayEvents } from './events.ts';
import type { ImageSizer } from './image-source.ts';
import { InFlightCalls } from './in-flight.ts';
import { MeteredCall, type Caller } from './metered-call.ts';
import type { Metering } from './metering.ts';
import { reserve } from './reserve.ts';
import type { ResponsesRequest } from './responses-request.ts';
import { responsesSurface } from './responses-surface.ts';
import type { WireResponse } from './responses-wire.ts';
import type { UpstreamPool } from './upstream-pool.ts';
import { runStream, type StreamingCall } from './stream.ts';
import type { MeteredRequest, Surface } from './surface.ts';

export type { Caller, CallInfo } from './metered-call.ts';
export type { CompletedCall } from './complete.ts';
export type { StreamEnd, StreamingCall, StreamSink } from './stream.ts';

export interface GatewayOptions {
  db: DB;
  clock: Clock;
  upstreams: UpstreamPool;
  roundingMode: RoundingMode;
  holdTtlMs: number;
  /** The overall deadline of an upstream call, body included. */
  upstreamTimeoutMs: number;
  /** Calls one user may have in flight, over all their keys and the playground. */
  maxInFlightPerUser: number;
  /** Reads the sizes of prompts' images (data URLs, fetched URLs) for the hold. */
  images: ImageSizer;
  /** The process lease its holds are placed under (src/jobs/process-lease.ts). */
  lease?: LeaseRef;
  log?: (line: string) => void;
  /** Who is told of charges, upstream failures and commits; nobody by default. */
  events?: GatewayEvents;
}

export interface CallOptions {
  requestId: string;
  /**
   * Fires when the client goes away. Before the hold, the call stops with nothing charged. After it,
   * a stream's upstream is aborted and the call charged for what was delivered (estimated); a
   * non-streamed call runs to its end and is charged the upstream's reported usage (complete.ts).
   * Either way its status is `aborted`.
   */
  clientSignal?: AbortSignal;
}

export class Gateway {
  readonly inFlight = new InFlightCalls();
  readonly holds: HoldBatcher;
  readonly settler: SettleBatcher;
  private readonly metering: Metering;

  constructor(options: GatewayOptions) {
    // A call alone in flight has no one to share a commit with: its writes go at once.
    const alone = () => this.inFlight.size <= 1;
    const { log = (line: string) => console.error(line), events = NO_GATEWAY_EVENTS, ...rest } = options;
    this.holds = createHoldBatcher(options.db, options.clock, { alone, onCommitted: (writes) => events.groupCommitted('hold', writes) });
    this.settler = createSettleBatcher(options.db, options.clock, { alone, onCommitted: (writes) => events.groupCommitted('settle', writes) });
    this.metering = { ...rest, secrets: rest.upstreams.secrets, holds: this.holds, settler: this.settler, log, events };
  }

  /**
   * Runs one chat completion. Throws InvalidRequestError, OutOfCreditsError, BudgetExceededError,
   * TooManyInFlightError, ShuttingDownError, UpstreamFailure or CallAbortedError before any answer;
   * a stream's later failures are its end (StreamEnd).
   */
  call(caller: Caller, body: unknown, options: CallOptions): Promise<CompletedCall<ChatCompletion> | StreamingCall<ChatCompletionChunk>> {
    return this.run<ChatRequest, ChatCompletion, ChatCompletionChunk>(chatSurface, caller, body, options);
  }

  /** Runs one Responses call (POST /v1/responses), with the same errors and ends as `call`. */
  responses(caller: Caller, body: unknown, options: CallOptions): Promise<CompletedCall<WireResponse> | StreamingCall<ResponseStreamEvent>> {
    return this.run<ResponsesRequest, WireResponse, ResponseStreamEvent>(responsesSurface, caller, body, options);
  }

  /** Runs one embeddings request: answered whole, never streamed. Throws as `call` does. */
  async embed(caller: Caller, body: unknown, options: CallOptions): Promise<CompletedCall<CreateEmbeddingResponse>> {
    const result = await this.run(embeddingSurface, caller, body, options);
    if (result.kind !== 'completion') throw new Error('an embeddings call was streamed');
    return result;
  }

  /** Any surface's call through the one path: a second request kind passes its own surface. */
  private async run<Request extends MeteredRequest, Answer, Chunk>(
    surface: Surface<Request, Answer, Chunk>,
    caller: Caller,
    body: unknown,
    options: CallOptions,
  ): Promise<CompletedCall<Answer> | StreamingCall<Chunk>> {
    if (!this.inFlight.accepting) throw new ShuttingDownError();
    const call = new MeteredCall<Request>(this.inFlight, options.requestId, options.clientSignal);
    try {
      await reserve(this.metering, surface, caller, body, call);
    } catch (error) {
      call.finish();
      throw error;
    }
    if (call.stopReason === 'shutdown') {
      // The grace period ran out while this call was being reserved: it never reached the upstream.
      try {
        await voidHold(this.metering.db, this.metering.clock, call.held.hold.id);
      } finally {
        call.finish();
      }
      throw new ShuttingDownError();
    }
    return call.held.request.stream ? runStream(this.metering, surface, call) : runCompletion(this.metering, surface, call);
  }
}
