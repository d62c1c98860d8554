// OpenAI's chat completion wire format in one place: completions, stream chunks, SSE frames and error bodies.
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';

export type FinishReason = ChatCompletion.Choice['finish_reason'];

/** What every completion and chunk of one answer repeats. */
export interface CompletionHeader {
  id: string;
  createdSeconds: number;
  model: string;
}

/** The text of one choice and why it ended. */
export interface ChoiceText {
  text: string;
  finishReason: FinishReason;
}

export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null; [extra: string]: unknown };
}

export const SSE_DONE = 'data: [DONE]\n\n';

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
};

/** `chatcmpl-` and 24 random hex characters, or `chatcmpl-{tag}-…` to tell a source apart. */
export function newCompletionId(tag?: string): string {
  return `chatcmpl-${tag ? `${tag}-` : ''}${randomBytes(12).toString('hex')}`;
}

export function usageObject(counts: UsageCounts): CompletionUsage {
  return {
    prompt_tokens: counts.promptTokens,
    completion_tokens: counts.completionTokens,
    total_tokens: counts.promptTokens + counts.completionTokens,
    prompt_tokens_details: { cached_tokens: counts.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** A non-streamed answer; `usage` null leaves the field out, as some compatible servers do. */
export function chatCompletion(header: CompletionHeader, choices: readonly ChoiceText[], usage: CompletionUsage | null): ChatCompletion {
  return {
    id: header.id,
    object: 'chat.completion',
    created: header.createdSeconds,
    model: header.model,
    choices: choices.map((choice, index) => ({
      index,
      message: { role: 'assistant', content: choice.text, refusal: null },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    ...(usage ? { usage } : {}),
  };
}

function chunk(header: CompletionHeader, choices: ChatCompletionChunk.Choice[]): ChatCompletionChunk {
  return { id: header.id, object: 'chat.completion.chunk', created: header.createdSeconds, model: header.model, choices };
}

export function roleChunk(header: CompletionHeader, index = 0): ChatCompletionChunk {
  return chunk(header, [{ index, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
}

export function contentChunk(header: CompletionHeader, text: string, index = 0): ChatCompletionChunk {
  return chunk(header, [{ index, delta: { content: text }, logprobs: null, finish_reason: null }]);
}

export function finishChunk(header: CompletionHeader, finishReason: FinishReason, index = 0): ChatCompletionChunk {
  return chunk(header, [{ index, delta: {}, logprobs: null, finish_reason: finishReason }]);
}

/** The last chunk when the client asked `stream_options.include_usage`: no choices, only usage. */
export function usageChunk(header: CompletionHeader, usage: CompletionUsage): ChatCompletionChunk {
  return { ...chunk(header, []), usage };
}

/** One server-sent event carrying a JSON value. */
export function sseFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export interface StreamPlan {
  /** Per choice: the content deltas, in order, and why the choice ended. */
  choices: readonly { pieces: readonly string[]; finishReason: FinishReason }[];
  /** The usage chunk's content; null when the client did not ask for it (or the server has none). */
  usage: CompletionUsage | null;
}

/**
 * Every SSE frame of a streamed answer, in OpenAI's order: a role chunk per choice, the content
 * deltas (choices interleaved), a finish chunk per choice, the usage chunk if any, then [DONE].
 * With include_usage, OpenAI sends `usage: null` on every chunk before the usage chunk; so does this.
 */
export function streamFrames(header: CompletionHeader, plan: StreamPlan): string[] {
  const chunks: ChatCompletionChunk[] = [];
  plan.choices.forEach((_, index) => chunks.push(roleChunk(header, index)));
  const longest = Math.max(0, ...plan.choices.map((choice) => choice.pieces.length));
  for (let position = 0; position < longest; position++) {
    plan.choices.forEach((choice, index) => {
      const piece = choice.pieces[position];
      if (piece !== undefined) chunks.push(contentChunk(header, piece, index));
    });
  }
  plan.choices.forEach((choice, index) => chunks.push(finishChunk(header, choice.finishReason, index)));
  if (plan.usage) {
    for (const each of chunks) each.usage = null;
    chunks.push(usageChunk(header, plan.usage));
  }
  return [...chunks.map(sseFrame), SSE_DONE];
}

/**
 * OpenAI's error shape, the one builder of it (every /v1 error answer and a stream's last error frame,
 * from src/errors/descriptions.ts; the demo model's and the test fakes' errors): the four standard
 * fields, then `extra`'s (e.g. requiredCredits), which never name one of the four.
 */
export function errorBody(
  message: string,
  type: string,
  code: string | null = null,
  param: string | null = null,
  extra: Record<string, unknown> = {},
): OpenAIErrorBody {
  return { error: { message, type, code, param, ...extra } };
}

/** Whether a chat completion request body asked for the usage chunk at the end of its stream. */
export function wantsUsageChunk(body: { stream_options?: { include_usage?: boolean | null } | null }): boolean {
  return body.stream_options?.include_usage === true;
}
