// What an embeddings request embeds: its four forms (a string, strings, token ids, lists of token
// ids) checked and bounded before any work, and its tokens counted for the hold, paced and bounded.
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import { InvalidRequestError } from './errors.ts';
import { runPaced, textTokenSteps, type CountSteps } from './token-count.ts';
import { groupedCountText } from '../money-text.ts';

/** Inputs in one request at most (OpenAI's bound: "any array must be 2048 dimensions or less"). */
export const MOST_EMBEDDING_INPUTS = 2_048;
/** Tokens in one input at most (8,192 for every embedding model). */
export const MOST_TOKENS_PER_EMBEDDING_INPUT = 8_192;
/** Tokens summed over a request's inputs at most: OpenAI's own limit for every embedding model. */
export const MOST_EMBEDDING_REQUEST_TOKENS = 300_000;
/** Token ids are below o200k's vocabulary size as OpenAI's tiktoken gives it (its last id, <|endofprompt|>, is 200,018). */
export const TOKEN_ID_LIMIT = 200_019;

/** One input: a text, or the token ids of one. */
export type EmbeddingItem = string | readonly number[];

/** The input as the client sent it (forwarded as is) and as a list of items (checked, counted). */
export interface EmbeddingInput {
  original: EmbeddingCreateParams['input'];
  items: readonly EmbeddingItem[];
}

const isTokenId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < TOKEN_ID_LIMIT;

function refuse(param: string, predicate: string): never {
  throw new InvalidRequestError(`'${param}' ${predicate}.`, param);
}

const TOKEN_ID_WORDS = `must be a token id: a whole number from 0 to ${groupedCountText(TOKEN_ID_LIMIT - 1)}`;
const TOO_MANY_TOKENS = `must have at most ${groupedCountText(MOST_TOKENS_PER_EMBEDDING_INPUT)} tokens`;

/** A list of token ids: its length first (one comparison, whatever its size), then each id. */
function checkTokenIds(ids: unknown[], param: string): number[] {
  if (ids.length === 0) refuse(param, 'must not be an empty list');
  if (ids.length > MOST_TOKENS_PER_EMBEDDING_INPUT) refuse(param, TOO_MANY_TOKENS);
  ids.forEach((id, index) => {
    if (!isTokenId(id)) refuse(`${param}[${index}]`, TOKEN_ID_WORDS);
  });
  return ids as number[];
}

/**
 * Checks `input` in one pass with no recursion: its form is read from its first item and every
 * other item must have the same form; lengths are compared before any item is read. Throws
 * InvalidRequestError naming the item at fault (`input[3]`, `input[0][17]`).
 */
export function checkEmbeddingInput(input: unknown): EmbeddingInput {
  if (input === undefined || input === null) refuse('input', 'is required');
  if (typeof input === 'string') {
    if (input === '') refuse('input', 'must not be an empty string');
    return { original: input, items: [input] };
  }
  if (!Array.isArray(input)) refuse('input', 'must be a string, a list of strings, a list of token ids or a list of lists of token ids');
  if (input.length === 0) refuse('input', 'must not be an empty list');
  const first: unknown = input[0];
  if (typeof first === 'number') {
    const ids = checkTokenIds(input, 'input');
    return { original: ids, items: [ids] };
  }
  if (input.length > MOST_EMBEDDING_INPUTS) refuse('input', `must have at most ${groupedCountText(MOST_EMBEDDING_INPUTS)} items`);
  let requestTokens = 0;
  if (Array.isArray(first)) {
    input.forEach((ids: unknown, index) => {
      if (!Array.isArray(ids)) refuse(`input[${index}]`, 'must be a list of token ids, as the first item is');
      requestTokens += checkTokenIds(ids, `input[${index}]`).length;
    });
    if (requestTokens > MOST_EMBEDDING_REQUEST_TOKENS) refuse('input', summedTooMany(requestTokens));
    return { original: input, items: input };
  }
  if (typeof first !== 'string') refuse('input[0]', 'must be a string, a token id or a list of token ids');
  input.forEach((text: unknown, index) => {
    if (typeof text !== 'string') refuse(`input[${index}]`, 'must be a string, as the first item is');
    if (text === '') refuse(`input[${index}]`, 'must not be an empty string');
  });
  return { original: input, items: input };
}

function summedTooMany(tokens: number): string {
  return `has ${groupedCountText(tokens)} tokens or more in all; a request takes at most ${groupedCountText(MOST_EMBEDDING_REQUEST_TOKENS)}`;
}

function* inputSteps(input: EmbeddingInput): CountSteps {
  let tokens = 0;
  for (const [index, item] of input.items.entries()) {
    if (typeof item !== 'string') {
      tokens += item.length;
      continue;
    }
    // Each text is counted only as far as its own limit and the request's: one over either is refused.
    const stopAbove = Math.min(MOST_TOKENS_PER_EMBEDDING_INPUT, MOST_EMBEDDING_REQUEST_TOKENS - tokens);
    const counted = yield* textTokenSteps(item, stopAbove);
    if (counted > MOST_TOKENS_PER_EMBEDDING_INPUT) refuse(typeof input.original === 'string' ? 'input' : `input[${index}]`, TOO_MANY_TOKENS);
    tokens += counted;
    if (tokens > MOST_EMBEDDING_REQUEST_TOKENS) refuse('input', summedTooMany(tokens));
  }
  return tokens;
}

/**
 * The input's tokens: a list of ids is its length, a text is counted with the gateway's counter
 * (exact for ordinary text, an upper bound for long unbroken runs: token-count.ts), in turns with
 * the rest of the server. Throws InvalidRequestError for a text over 8,192 tokens or a request over
 * 300,000, having counted no further than that; when `signal` aborts, the count stops with its reason.
 */
export function countEmbeddingInputTokens(input: EmbeddingInput, signal?: AbortSignal): Promise<number> {
  return runPaced(inputSteps(input), signal);
}
