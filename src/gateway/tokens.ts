// Token counting with o200k_base (the gpt-4o family's encoding): chat input for holds, output text for estimates.
import { countTokens, decode, encodeGenerator } from 'gpt-tokenizer/encoding/o200k_base';
import { LRUCache } from 'lru-cache';

// gpt-tokenizer throws on text that spells a special token such as "<|endoftext|>" unless told
// otherwise. A user's text is only ever text, so special tokens are counted as the plain
// characters they are, as the upstream does.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** OpenAI cookbook, gpt-4o family: every message is framed by 3 tokens, a name costs 1 more. */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
/** Every reply is primed with <|start|>assistant<|message|>. */
export const TOKENS_PRIMING_REPLY = 3;

// The hold's margin lives in pricing, beside the Credits tab's rule that uses it too; re-exported
// so a count and its hold come from one import.
export { holdInputTokens } from '../pricing/margin.ts';

/**
 * The parts of a chat completion request that reach the model as input. Structural and loose on
 * purpose, so a parsed JSON body and the openai SDK's ChatCompletionCreateParams both fit.
 */
export interface ChatInput {
  messages: readonly ChatInputMessage[];
  tools?: unknown;
  functions?: unknown;
  response_format?: unknown;
  /** Predicted output: its text is counted as input. */
  prediction?: { content: ChatInputMessage['content'] } | null;
}

export interface ChatInputMessage {
  role: string;
  content?: string | readonly ChatInputContentPart[] | null;
  name?: string;
  refusal?: string | null;
  tool_calls?: readonly ChatInputToolCall[];
  function_call?: { name: string; arguments: string } | null;
}

export interface ChatInputContentPart {
  type: string;
  text?: string;
  refusal?: string;
}

export interface ChatInputToolCall {
  type?: string;
  function?: { name: string; arguments: string };
  custom?: { name: string; input: string };
}

/** Tokens of a piece of text as the model sees it; 0 for the empty string. */
export function countTextTokens(text: string): number {
  return text === '' ? 0 : countTokens(text, AS_PLAIN_TEXT);
}

/**
 * Calls resend the same long texts over and over (a system prompt, the conversation so far), and
 * counting costs about 0.7 µs a token, so the counts of long message texts are kept: at most
 * 8 million characters of text (≈ 16 MB), least recently used dropped first. Short texts are
 * counted each time; they are cheap and would only churn the cache.
 */
const CACHED_TEXT_MIN_CHARS = 256;
const messageTextCounts = new LRUCache<string, number>({ maxSize: 8_000_000, sizeCalculation: (_count, text) => text.length });

function countMessageTextTokens(text: string): number {
  if (text.length < CACHED_TEXT_MIN_CHARS) return countTextTokens(text);
  let tokens = messageTextCounts.get(text);
  if (tokens === undefined) {
    tokens = countTextTokens(text);
    messageTextCounts.set(text, tokens);
  }
  return tokens;
}

// Roles come from a handful of names; their counts are kept (a few, in case of odd ones).
const roleCounts = new Map<string, number>();

function countRoleTokens(role: string): number {
  let tokens = roleCounts.get(role);
  if (tokens === undefined) {
    tokens = countTextTokens(role);
    if (roleCounts.size < 16) roleCounts.set(role, tokens);
  }
  return tokens;
}

function countContentTokens(content: ChatInputMessage['content']): number {
  if (content == null) return 0;
  if (typeof content === 'string') return countMessageTextTokens(content);
  let tokens = 0;
  // Image, audio and file parts have no text: the gateway refuses them before counting.
  for (const part of content) tokens += countMessageTextTokens(part.text ?? part.refusal ?? '');
  return tokens;
}

function countToolCallTokens(toolCalls: readonly ChatInputToolCall[] | undefined): number {
  if (!toolCalls) return 0;
  let tokens = 0;
  for (const call of toolCalls) {
    if (call.function) tokens += countTextTokens(call.function.name) + countTextTokens(call.function.arguments);
    if (call.custom) tokens += countTextTokens(call.custom.name) + countTextTokens(call.custom.input);
  }
  return tokens;
}

function countJsonTokens(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (Array.isArray(value) && value.length === 0) return 0;
  return countTextTokens(JSON.stringify(value));
}

/**
 * Input tokens of a chat completion request: each message with its framing (3 tokens, role,
 * content, name + 1, assistant tool calls' names and arguments), 3 tokens priming the reply, the
 * predicted output's text, and the tools (or legacy functions) and response_format serialized as JSON. The JSON is not the
 * exact rendering the model sees, but it is close and never far below it, which is what a hold needs.
 */
export function countChatInputTokens(body: ChatInput): number {
  let tokens = TOKENS_PRIMING_REPLY;
  for (const message of body.messages) {
    tokens += TOKENS_PER_MESSAGE + countRoleTokens(message.role) + countContentTokens(message.content);
    if (message.name) tokens += countTextTokens(message.name) + TOKENS_PER_NAME;
    if (message.refusal) tokens += countTextTokens(message.refusal);
    tokens += countToolCallTokens(message.tool_calls);
    if (message.function_call) {
      tokens += countTextTokens(message.function_call.name) + countTextTokens(message.function_call.arguments);
    }
  }
  tokens += countContentTokens(body.prediction?.content);
  return tokens + countJsonTokens(body.tools) + countJsonTokens(body.functions) + countJsonTokens(body.response_format);
}

/**
 * The text as the tokenizer splits it before merging (words with their leading space, runs of
 * punctuation or spaces), each with its token count. Every piece holds whole characters.
 *
 * gpt-tokenizer 4's decode() keeps a module-wide TextDecoder in streaming mode, so decoding tokens
 * that end inside a character (an emoji or a curly quote spans several) leaves bytes behind that
 * corrupt the next decode() anywhere in the process. Decoding only whole pieces never does that;
 * each piece is checked against the text all the same.
 */
function textPieces(text: string): { text: string; tokenCount: number }[] {
  const pieces: { text: string; tokenCount: number }[] = [];
  let position = 0;
  for (const tokens of encodeGenerator(text, AS_PLAIN_TEXT)) {
    const piece = decode(tokens);
    if (!text.startsWith(piece, position)) throw new Error('the tokenizer decoded a piece that is not in the text');
    pieces.push({ text: piece, tokenCount: tokens.length });
    position += piece.length;
  }
  if (position !== text.length) throw new Error('the tokenizer pieces do not cover the text');
  return pieces;
}

/**
 * The longest prefix of `text`, cut between the tokenizer's pieces (so never inside a character),
 * that is at most `limit` tokens. A piece of several tokens is kept whole or not at all, so the
 * prefix can be a few tokens short of the limit.
 */
export function truncateTextToTokens(text: string, limit: number): string {
  const kept: string[] = [];
  let keptTokens = 0;
  for (const piece of textPieces(text)) {
    if (keptTokens + piece.tokenCount > limit) break;
    kept.push(piece.text);
    keptTokens += piece.tokenCount;
  }
  // Re-encoding a prefix can split its last spaces differently from the whole text: check the count.
  while (kept.length > 0 && countTextTokens(kept.join('')) > limit) kept.pop();
  return kept.join('');
}

/**
 * Splits `text` into consecutive pieces of at least `tokensPerPiece` tokens (the last may be
 * shorter), cut between whole characters, whose concatenation is exactly `text`: the content
 * deltas of a streamed reply.
 */
export function splitTextByTokens(text: string, tokensPerPiece: number): string[] {
  if (!Number.isSafeInteger(tokensPerPiece) || tokensPerPiece < 1) throw new RangeError(`tokensPerPiece must be ≥ 1, got ${tokensPerPiece}`);
  const pieces: string[] = [];
  let pending = '';
  let pendingTokens = 0;
  for (const piece of textPieces(text)) {
    pending += piece.text;
    pendingTokens += piece.tokenCount;
    if (pendingTokens < tokensPerPiece) continue;
    pieces.push(pending);
    pending = '';
    pendingTokens = 0;
  }
  if (pending !== '') pieces.push(pending);
  return pieces;
}
