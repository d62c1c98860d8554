// A streamed call as server-sent events, frame by frame as it arrives, then its end once the charge is
// durable: chat completions' `data:` frames and `[DONE]` (or the error's OpenAI body), the Responses
// API's typed events (or an `error` event); nothing when the client left.
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ResponseErrorEvent, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { Config } from '../config.ts';
import { describeError } from '../errors/descriptions.ts';
import { CallAbortedError, UpstreamFailure } from '../gateway/errors.ts';
import type { StreamEnd, StreamingCall } from '../gateway/gateway.ts';
import { SSE_DONE, sseFrame } from '../gateway/openai-wire.ts';
import { sseEventFrame } from '../gateway/responses-wire.ts';
import { errorBodyOf } from './error-json.ts';

const encoder = new TextEncoder();

/** How a surface's stream is written: each chunk's frame, and the last frame for its end (null: none). */
export interface SseFrames<Chunk> {
  chunk(chunk: Chunk): string;
  end(end: StreamEnd): string | null;
}

/** The response body of a streamed call; the HTTP layer cancelling it (the socket closed) stops the call. */
export function sseBody<Chunk>(call: StreamingCall<Chunk>, frames: SseFrames<Chunk>): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start: (controller) => {
      const send = (text: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          open = false;
        }
      };
      call.start({
        chunk: (chunk) => send(frames.chunk(chunk)),
        end: (end) => {
          const last = frames.end(end);
          if (last !== null) send(last);
          if (!open) return;
          open = false;
          try {
            controller.close();
          } catch {
            // already closed by a cancel
          }
        },
      });
    },
    cancel: () => {
      // The response went away (the HTTP layer cancels its reader when the socket closes).
      open = false;
      call.stop();
    },
  });
}

/** Chat completions' frames: the chunk as JSON; `[DONE]`, or the error's body (a client that left gets nothing). */
export function chatCompletionFrames(config: Pick<Config, 'publicUrl'>): SseFrames<ChatCompletionChunk> {
  return {
    chunk: sseFrame,
    end: (end) => {
      if (end === null) return SSE_DONE;
      if (end instanceof CallAbortedError && end.reason === 'client') return null;
      return sseFrame(errorBodyOf(describeError(end, config)!));
    },
  };
}

/**
 * The Responses API's frames, one encoder per stream: each event as it came, under its type. A whole
 * answer ends with its own last event (`response.completed` or `response.incomplete`) and nothing
 * after; an early end is an `error` event numbered after the last one, as OpenAI sends it — except
 * when the client left, or when the upstream's own `response.failed` or `error` event has already
 * told the client.
 */
export function responsesFrames(config: Pick<Config, 'publicUrl'>): SseFrames<ResponseStreamEvent> {
  let nextSequenceNumber = 0;
  let upstreamToldFailure = false;
  return {
    chunk: (event) => {
      if (typeof event.sequence_number === 'number') nextSequenceNumber = event.sequence_number + 1;
      if (event.type === 'response.failed' || event.type === 'error') upstreamToldFailure = true;
      return sseEventFrame(event);
    },
    end: (end) => {
      if (end === null) return null;
      if (end instanceof CallAbortedError && end.reason === 'client') return null;
      if (end instanceof UpstreamFailure && upstreamToldFailure) return null;
      const { message, code, param } = describeError(end, config)!;
      const event: ResponseErrorEvent = { type: 'error', code, message, param, sequence_number: nextSequenceNumber };
      return sseEventFrame(event);
    },
  };
}
