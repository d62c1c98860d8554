// Token counting with o200k_base (the gpt-4o family's encoding): chat input for holds, output text for estimates.
import { LRUCache } from 'lru-cache';
import { countTextTokens, runPaced, textPieces, textTokenSteps, type CountSteps } from './token-count.ts';

// The counts are exact for ordinary text and an upper bound beyond it, in linear time: see token-count.ts.
export { countTextTokens, countTextsTokensPaced } from './token-count.ts';

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

/**
 * Calls resend the same long texts over and over (a system prompt, the conversation so far), and
 * counting costs about 0.7 µs a token, so the counts of long message texts are kept: at most 16 MiB,
 * a text counted at 2 bytes a character (V8 keeps Latin-1 text in one) and 64 for its entry, least
 * recently used dropped first (docs/architecture.md, Caches). Short texts are counted each time; they
 * are cheap and would only churn the cache.
 */
const CACHED_TEXT_MIN_CHARS = 256;
const messageTextCounts = new LRUCache<string, number>({ maxSize: 16 * 1024 * 1024, sizeCalculation: (_count, text) => 2 * text.length + 64 });

function* messageTextSteps(text: string): CountSteps {
  if (text.length < CACHED_TEXT_MIN_CHARS) return yield* textTokenSteps(text);
  let tokens = messageTextCounts.get(text);
  if (tokens === undefined) {
    tokens = yield* textTokenSteps(text);
    messageTextCounts.set(text, tokens);
  }
  return tokens;
}

// Roles come from a handful of names; their counts are kept (a few, in case of odd ones): 16 of at most 32 characters, about 2 KB.
const roleCounts = new Map<string, number>();

function* roleSteps(role: string): CountSteps {
  let tokens = roleCounts.get(role);
  if (tokens === undefined) {
    tokens = yield* textTokenSteps(role);
    if (roleCounts.size < 16 && role.length <= 32) roleCounts.set(role, tokens);
  }
  return tokens;
}

function* contentSteps(content: ChatInputMessage['content']): CountSteps {
  if (content == null) return 0;
  if (typeof content === 'string') return yield* messageTextSteps(content);
  let tokens = 0;
  // An image part has no text: its tokens are counted from its size (image-tokens.ts). Audio and
  // file parts are refused before counting.
  for (const part of content) tokens += yield* messageTextSteps(part.text ?? part.refusal ?? '');
  return tokens;
}

function* toolCallSteps(toolCalls: readonly ChatInputToolCall[] | undefined): CountSteps {
  if (!toolCalls) return 0;
  let tokens = 0;
  for (const call of toolCalls) {
    if (call.function) tokens += (yield* textTokenSteps(call.function.name)) + (yield* textTokenSteps(call.function.arguments));
    if (call.custom) tokens += (yield* textTokenSteps(call.custom.name)) + (yield* textTokenSteps(call.custom.input));
  }
  return tokens;
}

function* jsonSteps(value: unknown): CountSteps {
  if (value === undefined || value === null) return 0;
  if (Array.isArray(value) && value.length === 0) return 0;
  return yield* textTokenSteps(JSON.stringify(value));
}

function* chatInputSteps(body: ChatInput): CountSteps {
  let tokens = TOKENS_PRIMING_REPLY;
  for (const message of body.messages) {
    tokens += TOKENS_PER_MESSAGE + (yield* roleSteps(message.role)) + (yield* contentSteps(message.content));
    if (message.name) tokens += (yield* textTokenSteps(message.name)) + TOKENS_PER_NAME;
    if (message.refusal) tokens += yield* textTokenSteps(message.refusal);
    tokens += yield* toolCallSteps(message.tool_calls);
    if (message.function_call) {
      tokens += (yield* textTokenSteps(message.function_call.name)) + (yield* textTokenSteps(message.function_call.arguments));
    }
  }
  tokens += yield* contentSteps(body.prediction?.content);
  return tokens + (yield* jsonSteps(body.tools)) + (yield* jsonSteps(body.functions)) + (yield* jsonSteps(body.response_format));
}

/**
 * Input tokens of a chat completion request: each message with its framing (3 tokens, role,
 * content, name + 1, assistant tool calls' names and arguments), 3 tokens priming the reply, the
 * predicted output's text, and the tools (or legacy functions) and response_format serialized as JSON. The JSON is not the
 * exact rendering the model sees, but it is close and never far below it, which is what a hold
 * needs. Texts are counted exactly unless they hold a piece the tokenizer would take quadratic
 * time over, which is bounded by its bytes (token-count.ts): the count never falls below the
 * tokenizer's. Counted in turns with the rest of the server (a 4 MB prompt takes up to seconds);
 * when `signal` aborts, counting stops and the promise rejects with its reason.
 */
export function countChatInputTokens(body: ChatInput, signal?: AbortSignal): Promise<number> {
  return runPaced(chatInputSteps(body), signal);
}

/**
 * The parts of a Responses request that reach the model as input: its instructions, its input items,
 * its tools and its text format. Structural and loose, like ChatInput.
 */
export interface ResponsesInput {
  instructions?: string | null;
  items: readonly ResponsesInputItem[];
  tools?: unknown;
  /** `text.format`: counted as its JSON, like chat's response_format. */
  format?: unknown;
}

/** One input item: a message (role and content), a tool call (its id, name and arguments or input) or a tool call's output. */
export interface ResponsesInputItem {
  type?: string;
  role?: string;
  content?: ChatInputMessage['content'];
  call_id?: string;
  name?: string;
  arguments?: string;
  input?: string;
  output?: ChatInputMessage['content'];
}

/** A Responses body's input as the counter reads it: a string input is one user message. */
export function responsesInputOf(body: {
  input: string | readonly ResponsesInputItem[];
  instructions?: string | null;
  tools?: unknown;
  text?: { format?: unknown } | null;
}): ResponsesInput {
  const items = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  return { instructions: body.instructions, items, tools: body.tools, format: body.text?.format };
}

function* responsesInputSteps(body: ResponsesInput): CountSteps {
  let tokens = TOKENS_PRIMING_REPLY;
  if (body.instructions) tokens += TOKENS_PER_MESSAGE + (yield* roleSteps('system')) + (yield* messageTextSteps(body.instructions));
  for (const item of body.items) {
    tokens += TOKENS_PER_MESSAGE + (item.role ? yield* roleSteps(item.role) : 0) + (yield* contentSteps(item.content)) + (yield* contentSteps(item.output));
    for (const text of [item.call_id, item.name, item.arguments, item.input]) {
      if (text) tokens += yield* textTokenSteps(text);
    }
  }
  return tokens + (yield* jsonSteps(body.tools)) + (yield* jsonSteps(body.format));
}

/**
 * Input tokens of a Responses request, framed as chat messages are: the instructions as a system
 * message, each item as a message (its role and content; a tool call's id, name and arguments or
 * input; a tool output's id and text), 3 tokens priming the reply, and the tools and text format as
 * JSON. Exact or bounded from above, and paced, as countChatInputTokens.
 */
export function countResponsesInputTokens(body: ResponsesInput, signal?: AbortSignal): Promise<number> {
  return runPaced(responsesInputSteps(body), signal);
}

/**
 * The longest prefix of `text`, cut between the tokenizer's pieces (so never inside a character),
 * that is at most `limit` tokens as countTextTokens counts them. A piece of several tokens is kept
 * whole or not at all, so the prefix can be a few tokens short of the limit (a long piece is cut
 * in runs of whole characters, see textPieces). Reads only as much of the text as it keeps.
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
