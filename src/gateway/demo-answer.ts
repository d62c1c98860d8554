// What each of the demo model's endpoints supplies to its fetch (demo-model.ts): the checks OpenAI
// makes that the answer depends on, and the answer as JSON or as the frames of a stream.
import type { Clock } from '../clock.ts';
import { defaultRates } from '../seed.ts';
import type { ImageSizer } from './image-source.ts';
import { countTextTokens, truncateTextToTokens } from './tokens.ts';

/** The chat models the demo answers (chat completions, Responses): those of the default rate card. */
export const DEMO_CHAT_MODELS: readonly string[] = defaultRates.map((rate) => rate.model);

/** A 400 naming the parameter at fault, as OpenAI words it. */
export interface DemoRefusal {
  invalid: string;
  param: string | null;
}

/** A whole answer's JSON, or a stream's SSE frames in order. */
export type DemoAnswer = { json: unknown } | { frames: readonly string[] };

export interface DemoAnswerOptions {
  clock: Clock;
  /** How many tokens each text delta carries. */
  tokensPerChunk: number;
  /** Sizes the prompt's images for its usage, as the gateway's hold does. */
  images: ImageSizer;
}

/** What one answer is given: the options, and the request's signal (stops an image fetch). */
export interface DemoAnswerContext extends DemoAnswerOptions {
  signal: AbortSignal;
}

/** One endpoint of the demo model, for a body already known to be a JSON object naming a model. */
export interface DemoEndpoint {
  /** The path's last part: `/chat/completions`, `/responses`, `/embeddings`. */
  path: string;
  /** The models it answers (any other is a 404, after `check`). */
  models: readonly string[];
  check(fields: Record<string, unknown>): DemoRefusal | null;
  /** The answer; throws InvalidRequestError for a fault found only while reading the input (a 400). */
  answer(fields: Record<string, unknown>, context: DemoAnswerContext): Promise<DemoAnswer>;
}

/** OpenAI's refusal of stream_options on a call that does not stream (chat completions, Responses). */
export function streamOptionsRefusal(fields: Record<string, unknown>): DemoRefusal | null {
  if (fields.stream_options == null || fields.stream === true) return null;
  return { invalid: "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: 'stream_options' };
}

export function isPositiveWhole(value: unknown, most = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= most;
}

/** The reply's text within an output limit (null: none): whole, or cut to the limit and said to be cut. */
export function limitedText(fullText: string, limit: number | null): { text: string; cut: boolean } {
  const cut = limit !== null && countTextTokens(fullText) > limit;
  return { text: cut ? truncateTextToTokens(fullText, limit) : fullText, cut };
}
