// A reserved call answered as a stream: the upstream's chunks are passed on as they arrive, then the
// call is settled, then the stream's end is reported (so a client's end of stream waits for the charge).
// Encoding the chunks and the end for the wire is the route's (src/api/sse.ts).
import type { CallAbortedError, UpstreamFailure } from './errors.ts';
import { CallNotRecordedError } from './errors.ts';
import type { CallInfo, MeteredCall } from './metered-call.ts';
import type { Metering } from './metering.ts';
import { failsOver, firstAnswer } from './failover.ts';
import { ReceivedOutput } from './output-text.ts';
import { callOutcome, endWithoutAnswer, estimatedTokens, settle } from './settle.ts';
import type { MeteredRequest, Surface } from './surface.ts';
import { classifyUpstreamError } from './upstream.ts';

/** Why a stream ended early; null when the answer was whole and its charge is durable. */
export type StreamEnd = UpstreamFailure | CallAbortedError | CallNotRecordedError | null;

/** Where a stream's answer goes: each chunk for the client as it arrives, then its end, once. */
export interface StreamSink<Chunk> {
  chunk(chunk: Chunk): void;
  /** Last, once the call's hold has ended (any charge is durable by then). */
  end(end: StreamEnd): void;
}

export interface StreamingCall<Chunk> extends CallInfo {
  kind: 'stream';
  /**
   * Starts passing the answer to `sink`. Call it once, at once: the call holds credits and its
   * upstream connection until its end has reached the sink.
   */
  start(sink: StreamSink<Chunk>): void;
  /** The reader went away: the upstream is aborted and the call charged for what was delivered (estimated). */
  stop(): void;
}

/** Passes chunks on as they arrive, then settles; returns how the stream ended. */
async function pump<Request extends MeteredRequest, Chunk>(
  metering: Metering,
  surface: Surface<Request, unknown, Chunk>,
  call: MeteredCall<Request>,
  upstream: AsyncIterable<Chunk>,
  sink: StreamSink<Chunk>,
): Promise<StreamEnd> {
  const reader = surface.chunkReader(call.held.request);
  let failure: unknown = null;
  try {
    for await (const chunk of upstream) {
      const forwarded = reader.read(chunk);
      if (forwarded) sink.chunk(forwarded);
    }
  } catch (error) {
    failure = error;
  }
  // An upstream that reports a failure inside its stream (an error event), or whose stream stopped
  // before its last event, ended it like a broken connection.
  failure ??= reader.failure();
  try {
    // An abort ends the SDK's stream silently: the stop reason tells an abort from a normal end.
    const stopped = call.stopReason;
    const reported = reader.reportedTokens();
    if (stopped === null && failure === null) {
      await settle(metering, call, callOutcome(call, 'ok', reported ?? (await estimatedTokens(call, reader.output)), reported === null, reader.upstreamResponseId));
      return null;
    }
    if (reported && stopped !== 'timeout' && failure === null) {
      // The usage chunk came (it is the last one): the answer was whole before the stop.
      await settle(metering, call, callOutcome(call, 'ok', reported, false, reader.upstreamResponseId));
      return null;
    }
    return await endWithoutAnswer(metering, call, failure, reader.output, reader.upstreamResponseId, true);
  } catch (error) {
    // The charge could not be written: the hold stays for the sweeper, and the client is told.
    metering.log(`settle failed for ${call.requestId}: ${(error as Error).name}: ${(error as Error).message}`);
    return new CallNotRecordedError(error as Error);
  }
}

/**
 * Waits for the stream's first chunk, then gives the stream back whole (that chunk first). A failure
 * before it that fails over is thrown, so the next upstream is tried; anything else (a stop, a refusal
 * in the stream) is given back to be met where the stream is read, as with one upstream.
 */
async function firstChunkCame<Chunk>(metering: Metering, call: MeteredCall<MeteredRequest>, stream: AsyncIterable<Chunk>): Promise<AsyncIterable<Chunk>> {
  const iterator = stream[Symbol.asyncIterator]();
  let first: IteratorResult<Chunk> | null = null;
  let failure: unknown = null;
  try {
    first = await iterator.next();
  } catch (error) {
    if (call.stopReason === null && failsOver(classifyUpstreamError(error, metering.secrets))) throw error;
    failure = error;
  }
  return {
    async *[Symbol.asyncIterator]() {
      if (failure !== null) throw failure;
      if (first!.done) return;
      yield first!.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    },
  };
}

/** Throws UpstreamFailure or CallAbortedError (the hold ended to match) when the upstream did not start answering. */
export async function runStream<Request extends MeteredRequest, Chunk>(
  metering: Metering,
  surface: Surface<Request, unknown, Chunk>,
  call: MeteredCall<Request>,
): Promise<StreamingCall<Chunk>> {
  let upstream: AsyncIterable<Chunk>;
  try {
    upstream = await firstAnswer(metering, call, async (target, hasNext) => {
      const stream = await surface.stream(target, call.held.request, call.held.outputLimit, call.controller.signal);
      // With another upstream to try, the answer is taken only once its first chunk came: a connection
      // that breaks before then has sent the client nothing, so the next upstream may still answer.
      return hasNext ? await firstChunkCame(metering, call, stream) : stream;
    });
  } catch (error) {
    try {
      throw await endWithoutAnswer(metering, call, error, new ReceivedOutput(), null, false);
    } finally {
      call.finish();
    }
  }
  return {
    kind: 'stream',
    ...call.info,
    start: (sink) => {
      void pump(metering, surface, call, upstream, sink).then((end) => {
        call.finish();
        sink.end(end);
      });
    },
    stop: () => call.stop('client'),
  };
}
