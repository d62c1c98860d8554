// One metered call, free of HTTP: validate → count → decide the output limit → hold → upstream → settle or void.
import { randomUUID } from 'node:crypto';
import type OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { Clock } from '../clock.ts';
import type { RoundingMode } from '../config.ts';
import type { DB } from '../db/connect.ts';
import type { Hold, Rate, UsageStatus } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { InsufficientCreditsError } from '../ledger/errors.ts';
import { createHoldBatcher, type HoldBatcher } from '../ledger/hold-batch.ts';
import { asCallLimits, type CallLimits } from '../spending-policy/call-limits.ts';
import { voidHold, type CallOutcome, type SettleResult } from '../ledger/holds.ts';
import { createSettleBatcher, type SettleBatcher } from '../ledger/settle-batch.ts';
import { costMc, type TokenCounts } from '../pricing/cost.ts';
import { decideOutputLimit, type Budget, type LimitRefusal } from '../pricing/output-limit.ts';
import { holdInputTokens } from '../pricing/margin.ts';
import { BudgetExceededError, capUses, type CapUse } from '../caps/caps.ts';
import { assertKeyHasRoom, assertUserHasRoom } from '../caps/in-flight.ts';
import { currentRate } from '../pricing/rates.ts';
import { parseChatRequest, type ChatRequest } from './chat-request.ts';
import { CallAbortedError, CallStopped, InvalidRequestError, OutOfCreditsError, ShuttingDownError, UpstreamFailure, type StopReason } from './errors.ts';
import { InFlightCalls } from './in-flight.ts';
import { SSE_DONE, errorBody, sseFrame } from './openai-wire.ts';
import { ReceivedOutput } from './output-text.ts';
import { countChatInputTokens } from './tokens.ts';
import { classifyUpstreamError } from './upstream.ts';
import { upstreamFailureBody } from './replies.ts';

export interface GatewayOptions {
  db: DB;
  clock: Clock;
  client: OpenAI;
  roundingMode: RoundingMode;
  holdTtlMs: number;
  /** The overall deadline of an upstream call, body included. */
  upstreamTimeoutMs: number;
  /** The operator's upstream key, only so it can be kept out of anything passed on. */
  operatorKey: string | null;
  /** Calls one user may have in flight, over all their keys and the playground. */
  maxInFlightPerUser: number;
  log?: (line: string) => void;
}

/** Who pays: an API key's owner, or a signed-in user in the playground (no key). */
export interface Caller {
  userId: number;
  apiKeyId: number | null;
}

export interface CallOptions {
  requestId: string;
  /**
   * Fires when the client goes away. Before the hold, the call stops with nothing charged. After it,
   * a stream's upstream is aborted and the call charged for what was delivered (estimated); a
   * non-streamed call runs to its end and is charged the upstream's reported usage (runCompletion).
   * Either way its status is `aborted`.
   */
  clientSignal?: AbortSignal;
}

/** What every answer reports beside its body. */
export interface CallInfo {
  requestId: string;
  /** The lowered output limit when the gateway capped it (x-max-tokens-capped), else null. */
  cappedOutputTokens: number | null;
}

export interface CompletedCall extends CallInfo {
  kind: 'completion';
  completion: ChatCompletion;
  chargedMc: number;
  /** The balance after the charge. */
  balanceMc: number;
  /** The tokens charged: the upstream's counts, or counted here when it sent none. */
  tokens: TokenCounts;
  estimated: boolean;
}

export interface StreamingCall extends CallInfo {
  kind: 'stream';
  /** The SSE body: chunks as they arrive, then [DONE] once the charge is durable (or an error event). */
  body: ReadableStream<Uint8Array>;
}

/**
 * req_ and 32 hex digits: the time in ms (12 digits), then 80 random bits. Time first, so the
 * UNIQUE indexes on request ids (holds, usage, the usage entry's idempotency key) grow at their
 * end instead of at a random page each call. randomUUID draws from a pooled entropy buffer
 * (randomBytes fills anew on every call); its version and variant digits are left out.
 */
export function newRequestId(): string {
  const random = randomUUID().replaceAll('-', '');
  return `req_${Date.now().toString(16).padStart(12, '0')}${random.slice(0, 12)}${random.slice(13, 16)}${random.slice(17, 22)}`;
}

/** A call that has come in: its stop switch, and how it leaves the in-flight registry. */
interface Started {
  requestId: string;
  controller: AbortController;
  /** performance.now() when the call came in: latency_ms is measured from here. */
  startedAtMs: number;
  /** True once the client has gone away (whether or not that stopped the call). */
  clientGone: () => boolean;
  /** Stops listening to the client and leaves the in-flight registry. */
  stopListening: () => void;
}

/** A call whose hold is placed: what the upstream leg needs. */
interface Reserved {
  info: CallInfo;
  request: ChatRequest;
  hold: Hold;
  countedInputTokens: number;
  outputLimit: number;
  controller: AbortController;
  /** performance.now() when the call came in: latency_ms is measured from here. */
  startedAtMs: number;
  /** True once the client has gone away (whether or not that stopped the call). */
  clientGone: () => boolean;
  /** Stops listening, clears the deadline and leaves the in-flight registry: once the hold has ended. */
  finish: () => void;
}

const encoder = new TextEncoder();

export class Gateway {
  readonly inFlight = new InFlightCalls();
  readonly holds: HoldBatcher;
  readonly settler: SettleBatcher;
  private readonly log: (line: string) => void;

  constructor(private readonly options: GatewayOptions) {
    this.log = options.log ?? ((line) => console.error(line));
    // A call alone in flight has no one to share a commit with: its writes go at once.
    const alone = () => this.inFlight.size <= 1;
    this.holds = createHoldBatcher(options.db, options.clock, { alone });
    this.settler = createSettleBatcher(options.db, options.clock, { alone });
  }

  /**
   * Runs one chat completion. Throws InvalidRequestError, OutOfCreditsError, ShuttingDownError,
   * UpstreamFailure or CallAbortedError before any answer; a stream's later failures end its body.
   */
  async call(caller: Caller, body: unknown, options: CallOptions): Promise<CompletedCall | StreamingCall> {
    if (!this.inFlight.accepting) throw new ShuttingDownError();
    const startedAtMs = performance.now();
    // In flight from the first moment, so a drain that starts while this call is being reserved waits for it.
    const controller = new AbortController();
    const stop = (reason: StopReason) => {
      if (!controller.signal.aborted) controller.abort(new CallStopped(reason));
    };
    const leave = this.inFlight.add({ requestId: options.requestId, stop });
    // Set once a non-streamed call's hold is being placed: from then on the client leaving no longer stops it.
    let outlivesClient = false;
    const clientGone = () => options.clientSignal?.aborted === true;
    const onClientGone = () => {
      if (!outlivesClient) stop('client');
    };
    options.clientSignal?.addEventListener('abort', onClientGone, { once: true });
    if (clientGone()) stop('client');
    const stopListening = () => {
      options.clientSignal?.removeEventListener('abort', onClientGone);
      leave();
    };
    let reserved: Reserved;
    try {
      const request = parseChatRequest(body);
      const rate = await currentRate(this.options.db, request.model);
      if (!rate) {
        throw new InvalidRequestError(`The model '${request.model}' is not on the rate card. GET /v1/models lists the models you can use.`, 'model', 'model_not_found');
      }
      if (rate.kind !== 'chat') {
        throw new InvalidRequestError(`The model '${request.model}' is an embedding model: call POST /v1/embeddings with it.`, 'model', 'model_not_found');
      }
      if (request.requestedOutputTokens !== null && request.requestedOutputTokens > rate.max_output_tokens) {
        throw new InvalidRequestError(
          `'${request.limitField}' is ${request.requestedOutputTokens}, above ${rate.model}'s maximum of ${rate.max_output_tokens} output tokens.`,
          request.limitField,
        );
      }
      // Counted in turns with other requests (seconds for a 4 MB prompt at worst): a client that
      // leaves meanwhile stops the count.
      const countedInputTokens = await countChatInputTokens(request.input, controller.signal).catch((error: unknown) => {
        if (controller.signal.aborted) return null;
        throw error;
      });
      // Stopped before anything was reserved: nothing to charge.
      if (countedInputTokens === null || controller.signal.aborted) {
        throw this.stopReasonOf(controller) === 'shutdown' ? new ShuttingDownError() : new CallAbortedError('client');
      }
      // A non-streamed answer is billed upstream in full whether or not anyone reads it, and aborting
      // the request does not stop the upstream from generating (and billing) it: so once the call is
      // reserved it runs to its end, bounded by the upstream deadline, and is charged what the
      // upstream reports. A stream is stopped instead, and charged for what was delivered.
      outlivesClient = !request.stream;
      reserved = await this.reserve(caller, request, rate, countedInputTokens, { requestId: options.requestId, controller, startedAtMs, clientGone, stopListening });
    } catch (error) {
      stopListening();
      throw error;
    }
    if (this.stopReasonOf(controller) === 'shutdown') {
      // The grace period ran out while this call was being reserved: it never reached the upstream.
      try {
        await voidHold(this.options.db, this.options.clock, reserved.hold.id);
      } finally {
        reserved.finish();
      }
      throw new ShuttingDownError();
    }
    return reserved.request.stream ? this.runStream(reserved) : this.runCompletion(reserved);
  }

  /**
   * The budgets an output limit must fit, read inside the hold's own transaction so concurrent calls
   * cannot overshoot any of them: the available balance, and what is left of every cap that applies,
   * each carrying its cap for the refusal. Also refuses a key, or a user, that already has its limit
   * of calls in flight.
   */
  protected async budgets(caller: Caller, model: string, limits: CallLimits, trx: Trx): Promise<Budget<CapUse>[]> {
    if (caller.apiKeyId !== null) assertKeyHasRoom(limits.keyInFlight);
    assertUserHasRoom(limits.userInFlight, this.options.maxInFlightPerUser);
    const caps = await capUses(trx, { userId: caller.userId, apiKeyId: caller.apiKeyId, model }, this.options.clock.now(), limits.caps);
    return [{ remainingMc: limits.availableMc, cap: null }, ...caps.map((cap) => ({ remainingMc: Math.max(0, cap.capMc - cap.spentMc), cap }))];
  }

  private async reserve(caller: Caller, request: ChatRequest, rate: Rate, countedInputTokens: number, started: Started): Promise<Reserved> {
    const { roundingMode } = this.options;
    const holdInput = holdInputTokens(countedInputTokens);
    const decide = (budgets: Budget<CapUse>[]) =>
      decideOutputLimit({
        rates: rate,
        mode: roundingMode,
        holdInputTokens: holdInput,
        requestedOutputTokens: request.requestedOutputTokens,
        modelMaxOutputTokens: rate.max_output_tokens,
        choices: request.choices,
        budgets,
      });
    // What the caller is told: a cap's refusal, or the available balance's.
    const refuse = (refusal: LimitRefusal<CapUse>, heldMc: number): Error => {
      const { cap, remainingMc } = refusal.budget;
      if (cap) return new BudgetExceededError(cap, refusal.requiredMc);
      return new OutOfCreditsError({
        requiredMc: refusal.requiredMc,
        availableMc: remainingMc,
        heldMc,
        maxAffordableOutputTokens: refusal.affordableOutputTokens,
        requestedOutputTokens: refusal.requestedOutputTokens,
        choices: request.choices,
        holdInputTokens: holdInput,
        promptNotCovered: costMc({ inputTokens: holdInput, cachedInputTokens: 0, outputTokens: 0 }, rate, roundingMode) > remainingMc,
      });
    };
    let outputLimit = 0;
    let capped = false;
    let hold: Hold;
    try {
      hold = await this.holds.place({
        userId: caller.userId,
        apiKeyId: caller.apiKeyId,
        requestId: started.requestId,
        rate,
        roundingMode,
        ttlMs: this.options.holdTtlMs,
        // Decided inside the hold's transaction, on the wallet as it is there: no other call can
        // take the credits between the decision and the hold.
        amountFor: async (state, trx) => {
          const limits = asCallLimits(state);
          const decision = decide(await this.budgets(caller, rate.model, limits, trx));
          if (!decision.ok) throw refuse(decision, limits.heldMc);
          outputLimit = decision.outputTokens;
          capped = decision.capped;
          return decision.holdMc;
        },
      });
    } catch (error) {
      if (!(error instanceof InsufficientCreditsError)) throw error;
      // Not expected: the amount was decided in the hold's own transaction, on the wallet the
      // update saw. Should it happen, it is refused as the decision refuses on that balance.
      const decision = decide([{ remainingMc: error.availableMc, cap: null }]);
      if (decision.ok) throw error;
      throw refuse(decision, error.heldMc);
    }

    const { controller } = started;
    const deadline = setTimeout(() => controller.abort(new CallStopped('timeout')), this.options.upstreamTimeoutMs);
    return {
      info: { requestId: started.requestId, cappedOutputTokens: capped ? outputLimit : null },
      request,
      hold,
      countedInputTokens,
      outputLimit,
      controller,
      startedAtMs: started.startedAtMs,
      clientGone: started.clientGone,
      finish: () => {
        clearTimeout(deadline);
        started.stopListening();
      },
    };
  }

  /** Only the checked fields (chat-request.ts), the output limit decided here, and always the usage chunk. */
  private upstreamParams(call: Reserved): ChatCompletionCreateParams {
    const params: Record<string, unknown> = { ...call.request.forward, [call.request.limitField]: call.outputLimit };
    if (call.request.stream) params.stream_options = { ...((params.stream_options as object | undefined) ?? {}), include_usage: true };
    return params as unknown as ChatCompletionCreateParams;
  }

  private stopReason(call: Reserved): StopReason | null {
    return this.stopReasonOf(call.controller);
  }

  private stopReasonOf(controller: AbortController): StopReason | null {
    const reason = controller.signal.reason;
    return controller.signal.aborted && reason instanceof CallStopped ? reason.reason : null;
  }

  private outcome(call: Reserved, status: UsageStatus, tokens: TokenCounts, estimated: boolean, upstreamResponseId: string | null): CallOutcome {
    return { tokens, status, estimated, latencyMs: Math.round(performance.now() - call.startedAtMs), upstreamResponseId };
  }

  /**
   * When a call does not end normally (README): input in full as counted here (uncached) plus the output received, marked estimated.
   * The output count is a bound for text with long unbroken runs (token-count.ts), and the upstream
   * never writes more than the output limit per choice, so it is capped there.
   */
  private async estimatedTokens(call: Reserved, output: ReceivedOutput): Promise<TokenCounts> {
    const outputTokens = Math.min(await output.tokens(), call.outputLimit * call.request.choices);
    return { inputTokens: call.countedInputTokens, cachedInputTokens: 0, outputTokens };
  }

  private settle(call: Reserved, outcome: CallOutcome): Promise<SettleResult> {
    return this.settler.settle(call.hold.id, outcome, call.hold);
  }

  /** An upstream failure before any output: nothing is charged; the call is still listed, at 0. */
  private async voidFailed(call: Reserved, upstreamResponseId: string | null): Promise<void> {
    await voidHold(this.options.db, this.options.clock, call.hold.id, this.outcome(call, 'upstream_error', { inputTokens: call.countedInputTokens, cachedInputTokens: 0, outputTokens: 0 }, true, upstreamResponseId));
  }

  /** Why the upstream leg ended without an answer, and the matching end of the hold. */
  private async endWithoutAnswer(call: Reserved, error: unknown, output: ReceivedOutput, upstreamResponseId: string | null): Promise<Error> {
    const stopped = this.stopReason(call);
    if (stopped === 'client' || stopped === 'shutdown') {
      await this.settle(call, this.outcome(call, 'aborted', await this.estimatedTokens(call, output), true, upstreamResponseId));
      return new CallAbortedError(stopped);
    }
    const failure = stopped === 'timeout' ? new UpstreamFailure('timeout') : classifyUpstreamError(error, this.options.operatorKey);
    if (output.any) await this.settle(call, this.outcome(call, 'upstream_error', await this.estimatedTokens(call, output), true, upstreamResponseId));
    else await this.voidFailed(call, upstreamResponseId);
    if (failure.kind !== 'rejected' && failure.kind !== 'rate_limited') this.log(`upstream ${failure.kind}${failure.upstreamStatus ? ` ${failure.upstreamStatus}` : ''} on ${call.info.requestId}`);
    return failure;
  }

  private async runCompletion(call: Reserved): Promise<CompletedCall> {
    try {
      let completion: ChatCompletion;
      try {
        completion = (await this.options.client.chat.completions.create(this.upstreamParams(call), { signal: call.controller.signal })) as ChatCompletion;
      } catch (error) {
        throw await this.endWithoutAnswer(call, error, new ReceivedOutput(), null);
      }
      const reported = reportedTokens(completion.usage);
      let tokens = reported;
      if (!tokens) {
        const output = new ReceivedOutput();
        output.addCompletion(completion);
        tokens = await this.estimatedTokens(call, output);
      }
      // A client that left while the upstream answered: the answer was still made and billed, so it is
      // charged as reported (or estimated from the answer when no usage came), marked aborted.
      const status = call.clientGone() ? 'aborted' : 'ok';
      const settled = await this.settle(call, this.outcome(call, status, tokens, reported === null, completion.id ?? null));
      return { kind: 'completion', ...call.info, completion, chargedMc: settled.chargedMc, balanceMc: settled.balanceMc, tokens, estimated: reported === null };
    } finally {
      call.finish();
    }
  }

  private async runStream(call: Reserved): Promise<StreamingCall> {
    let upstream: AsyncIterable<ChatCompletionChunk>;
    try {
      upstream = (await this.options.client.chat.completions.create(this.upstreamParams(call), { signal: call.controller.signal })) as unknown as AsyncIterable<ChatCompletionChunk>;
    } catch (error) {
      try {
        throw await this.endWithoutAnswer(call, error, new ReceivedOutput(), null);
      } finally {
        call.finish();
      }
    }

    let sink: ReadableStreamDefaultController<Uint8Array> | null = null;
    let open = true;
    const send = (text: string) => {
      if (!open || !sink) return;
      try {
        sink.enqueue(encoder.encode(text));
      } catch {
        open = false;
      }
    };
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        sink = controller;
      },
      cancel: () => {
        // The response went away (the HTTP layer cancels its reader when the socket closes).
        open = false;
        if (!call.controller.signal.aborted) call.controller.abort(new CallStopped('client'));
      },
    });
    void this.pump(call, upstream, send).finally(() => {
      call.finish();
      if (open && sink) {
        open = false;
        try {
          sink.close();
        } catch {
          // already closed by a cancel
        }
      }
    });
    return { kind: 'stream', ...call.info, body };
  }

  /** Passes chunks on as they arrive, then settles, then ends the stream with [DONE] or an error event. */
  private async pump(call: Reserved, upstream: AsyncIterable<ChatCompletionChunk>, send: (text: string) => void): Promise<void> {
    const output = new ReceivedOutput();
    let usage: CompletionUsage | null = null;
    let upstreamResponseId: string | null = null;
    let failure: unknown = null;
    try {
      for await (const chunk of upstream) {
        upstreamResponseId ??= chunk.id ?? null;
        output.addChunk(chunk);
        if (chunk.usage) usage = chunk.usage;
        const forwarded = forClient(chunk, call.request.wantsUsage);
        if (forwarded) send(sseFrame(forwarded));
      }
    } catch (error) {
      failure = error;
    }
    try {
      // An abort ends the SDK's stream silently: the stop reason tells an abort from a normal end.
      const stopped = this.stopReason(call);
      const reported = reportedTokens(usage);
      if (stopped === null && failure === null) {
        await this.settle(call, this.outcome(call, 'ok', reported ?? (await this.estimatedTokens(call, output)), reported === null, upstreamResponseId));
        send(SSE_DONE);
        return;
      }
      if (reported && stopped !== 'timeout' && failure === null) {
        // The usage chunk came (it is the last one): the answer was whole before the stop.
        await this.settle(call, this.outcome(call, 'ok', reported, false, upstreamResponseId));
        send(SSE_DONE);
        return;
      }
      const ended = await this.endWithoutAnswer(call, failure, output, upstreamResponseId);
      if (ended instanceof UpstreamFailure) send(sseFrame(upstreamFailureBody(ended)));
      else if (ended instanceof CallAbortedError && ended.reason === 'shutdown') {
        send(sseFrame(errorBody('The server restarted during this call; it was cut off and charged for what was received.', 'server_error', 'server_shutting_down')));
      }
    } catch (error) {
      // The charge could not be written: the hold stays for the sweeper, and the client is told.
      this.log(`settle failed for ${call.info.requestId}: ${(error as Error).name}: ${(error as Error).message}`);
      send(sseFrame(errorBody('The call could not be recorded. Please try again.', 'server_error', 'internal_error')));
    }
  }
}

/** The chunk as the client should see it: the usage chunk and usage fields only if it asked for them. */
function forClient(chunk: ChatCompletionChunk, wantsUsage: boolean): ChatCompletionChunk | null {
  if (wantsUsage || !('usage' in chunk)) return chunk;
  if (chunk.usage && (chunk.choices?.length ?? 0) === 0) return null;
  const { usage: _usage, ...rest } = chunk;
  return rest as ChatCompletionChunk;
}

/** The upstream's own counts, cached input included; null when it sent none (or nonsense). */
function reportedTokens(usage: CompletionUsage | null | undefined): TokenCounts | null {
  if (!usage) return null;
  const input = usage.prompt_tokens;
  const output = usage.completion_tokens;
  if (!Number.isSafeInteger(input) || input < 0 || !Number.isSafeInteger(output) || output < 0) return null;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  return { inputTokens: input, cachedInputTokens: Number.isSafeInteger(cached) && cached > 0 ? Math.min(cached, input) : 0, outputTokens: output };
}
