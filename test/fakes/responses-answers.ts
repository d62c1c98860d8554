// The fake upstream's Responses answers (POST /v1/responses), per behaviour: the whole response, or
// the events of its stream as SSE frames, built with the app's own wire format (src/gateway/responses-wire.ts).
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { countResponsesInputTokens, countTextTokens, responsesInputOf, type ResponsesInputItem } from '../../src/gateway/tokens.ts';
import {
  newResponseId,
  responseEvents,
  responseObject,
  responseUsage,
  sseEventFrame,
  type ResponseHeader,
  type ResponsePlan,
  type WireResponse,
} from '../../src/gateway/responses-wire.ts';

/** Usage as the fake's behaviours give it (chat's names, so one behaviour fits both endpoints), reasoning tokens included. */
export interface ScriptedUsage {
  prompt_tokens: number;
  completion_tokens?: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

/** How a Responses answer ends: as a real one does, or with an `error` event instead of `response.failed`. */
export type ScriptedEnding = ResponsePlan['ending'] | 'error';

export interface ScriptedAnswer {
  text: string;
  /** undefined: counted with the tokenizer; null: none sent. */
  usage: ScriptedUsage | null | undefined;
  ending: ScriptedEnding;
  /** Text pieces of the stream; the text in one piece when not given. */
  pieces?: readonly string[];
}

export interface ResponsesBody {
  model: string;
  input: string | ResponsesInputItem[];
  instructions?: string | null;
  tools?: unknown;
  text?: { format?: unknown } | null;
  max_output_tokens?: number | null;
}

/** The answer's header: a fresh id, now, the request's model and limit. */
export function responsesHeader(body: ResponsesBody): ResponseHeader {
  return { id: newResponseId(), createdSeconds: Math.floor(Date.now() / 1000), model: String(body.model), maxOutputTokens: body.max_output_tokens ?? null };
}

async function planOf(body: ResponsesBody, answer: ScriptedAnswer): Promise<ResponsePlan> {
  const reported = answer.usage;
  const usage =
    reported === null
      ? null
      : responseUsage({
          inputTokens: reported?.prompt_tokens ?? (await countResponsesInputTokens(responsesInputOf(body))),
          outputTokens: reported?.completion_tokens ?? countTextTokens(answer.text),
          cachedTokens: reported?.cached_tokens ?? 0,
          reasoningTokens: reported?.reasoning_tokens ?? 0,
        });
  return {
    pieces: answer.pieces ?? [answer.text],
    ending: answer.ending === 'error' ? 'failed' : answer.ending,
    usage,
    reasoning: (reported?.reasoning_tokens ?? 0) > 0,
  };
}

export async function responsesJson(body: ResponsesBody, answer: ScriptedAnswer): Promise<WireResponse> {
  return responseObject(responsesHeader(body), await planOf(body, answer));
}

/** The stream's events in order; an 'error' ending replaces `response.failed` with an error event. */
export async function responsesStreamEvents(body: ResponsesBody, answer: ScriptedAnswer): Promise<ResponseStreamEvent[]> {
  const events = responseEvents(responsesHeader(body), await planOf(body, answer));
  if (answer.ending !== 'error') return events;
  const last = events.pop()!;
  return [...events, { type: 'error', code: 'server_error', message: 'The model failed while generating the answer.', param: null, sequence_number: last.sequence_number }];
}

export async function responsesStreamFrames(body: ResponsesBody, answer: ScriptedAnswer): Promise<string[]> {
  return (await responsesStreamEvents(body, answer)).map(sseEventFrame);
}

/** The first events of a stream up to and including `deltas` text deltas: for a connection that breaks mid-answer. */
export async function responsesPartialFrames(body: ResponsesBody, deltas: number): Promise<string> {
  const pieces = slowPieces(deltas);
  const events = await responsesStreamEvents(body, { text: pieces.join(''), pieces, usage: undefined, ending: 'completed' });
  const afterDeltas = events.findIndex((event) => event.type === 'response.output_text.done');
  return events.slice(0, afterDeltas).map(sseEventFrame).join('');
}

/** "Piece 1. Piece 2. …", one piece a delta: the slow stream's text. */
export function slowPieces(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `Piece ${index + 1}. `);
}
