// Validates a chat completion request body before anything is reserved: what is wrong is named by `param`.
import { InvalidRequestError } from './errors.ts';
import type { ChatInput, ChatInputMessage } from './tokens.ts';

/** The parts of the body the gateway acts on; `body` is forwarded upstream as given (plus the limit). */
export interface ChatRequest {
  body: Record<string, unknown>;
  model: string;
  /** What reaches the model as input, as checked here: the hold's token count reads it. */
  input: ChatInput;
  stream: boolean;
  /** The client asked for the usage chunk at the end of its stream. */
  wantsUsage: boolean;
  /** max_completion_tokens or max_tokens, if given. */
  requestedOutputTokens: number | null;
  /** The field the output limit is sent in: the one the client used, else max_tokens (understood by every compatible server). */
  limitField: 'max_tokens' | 'max_completion_tokens';
  /** n: each choice has its own output. */
  choices: number;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
/** Content parts with no text: the hold can't count them yet. */
const UNSUPPORTED_PARTS = new Set(['image_url', 'input_audio', 'file', 'audio', 'input_image', 'image']);
const MOST_CHOICES = 128;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isWhole = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function optionalPositive(body: Record<string, unknown>, name: string, most = Number.MAX_SAFE_INTEGER): number | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (!isWhole(value) || value < 1 || value > most) {
    throw new InvalidRequestError(`'${name}' must be a whole number from 1${most === Number.MAX_SAFE_INTEGER ? '' : ` to ${most}`}, got ${JSON.stringify(value)}.`, name);
  }
  return value;
}

function checkContentParts(parts: unknown[], at: string, role: string): void {
  if (parts.length === 0 && role === 'user') throw new InvalidRequestError(`'${at}' must not be an empty list.`, at);
  parts.forEach((part, index) => {
    const here = `${at}[${index}]`;
    if (!isObject(part) || typeof part.type !== 'string') throw new InvalidRequestError(`'${here}' must be an object with a 'type'.`, here);
    if (UNSUPPORTED_PARTS.has(part.type)) {
      throw new InvalidRequestError(`Content parts of type '${part.type}' are not supported yet: send text only.`, here, 'unsupported_content');
    }
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw new InvalidRequestError(`'${here}.text' must be a string.`, `${here}.text`);
      return;
    }
    if (part.type === 'refusal' && role === 'assistant') {
      if (typeof part.refusal !== 'string') throw new InvalidRequestError(`'${here}.refusal' must be a string.`, `${here}.refusal`);
      return;
    }
    throw new InvalidRequestError(`Unknown content part type '${part.type}'.`, `${here}.type`);
  });
}

function checkToolCalls(value: unknown, at: string): void {
  if (!Array.isArray(value)) throw new InvalidRequestError(`'${at}' must be a list.`, at);
  value.forEach((call, index) => {
    const here = `${at}[${index}]`;
    if (!isObject(call)) throw new InvalidRequestError(`'${here}' must be an object.`, here);
    if (call.function !== undefined) {
      const fn = call.function;
      if (!isObject(fn) || typeof fn.name !== 'string' || typeof fn.arguments !== 'string') {
        throw new InvalidRequestError(`'${here}.function' must have a string 'name' and string 'arguments'.`, `${here}.function`);
      }
    }
  });
}

function checkMessage(message: unknown, index: number): ChatInputMessage {
  const at = `messages[${index}]`;
  if (!isObject(message)) throw new InvalidRequestError(`'${at}' must be an object.`, at);
  if (typeof message.role !== 'string' || !ROLES.has(message.role)) {
    throw new InvalidRequestError(`'${at}.role' must be one of ${[...ROLES].join(', ')}.`, `${at}.role`);
  }
  const role = message.role;
  const content = message.content;
  if (typeof content === 'string') {
    // text: nothing more to check
  } else if (Array.isArray(content)) {
    checkContentParts(content, `${at}.content`, role);
  } else if (content === undefined || content === null) {
    // Only an assistant message (with tool calls) or a legacy function call may have no content.
    if (role !== 'assistant') throw new InvalidRequestError(`'${at}.content' is required for a ${role} message.`, `${at}.content`);
  } else {
    throw new InvalidRequestError(`'${at}.content' must be a string or a list of content parts.`, `${at}.content`);
  }
  if (message.name !== undefined && typeof message.name !== 'string') throw new InvalidRequestError(`'${at}.name' must be a string.`, `${at}.name`);
  if (message.tool_calls !== undefined && message.tool_calls !== null) checkToolCalls(message.tool_calls, `${at}.tool_calls`);
  if (role === 'tool' && typeof message.tool_call_id !== 'string') {
    throw new InvalidRequestError(`'${at}.tool_call_id' is required for a tool message.`, `${at}.tool_call_id`);
  }
  if (message.audio !== undefined && message.audio !== null) {
    throw new InvalidRequestError('Audio in messages is not supported yet: send text only.', `${at}.audio`, 'unsupported_content');
  }
  return message as unknown as ChatInputMessage;
}

/** Checks the body's shape; the model's presence on the rate card is checked by the caller. */
export function parseChatRequest(value: unknown): ChatRequest {
  if (!isObject(value)) throw new InvalidRequestError('The request body must be a JSON object.', null);
  const body = value;
  if (typeof body.model !== 'string' || body.model.trim() === '') throw new InvalidRequestError("'model' is required: a model id such as gpt-4o-mini.", 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new InvalidRequestError("'messages' must be a non-empty list.", 'messages');
  const messages = body.messages.map(checkMessage);

  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw new InvalidRequestError("'stream' must be true or false.", 'stream');
  const stream = body.stream === true;
  let wantsUsage = false;
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (!stream) throw new InvalidRequestError("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
    if (!isObject(body.stream_options)) throw new InvalidRequestError("'stream_options' must be an object.", 'stream_options');
    const includeUsage = body.stream_options.include_usage;
    if (includeUsage !== undefined && includeUsage !== null && typeof includeUsage !== 'boolean') {
      throw new InvalidRequestError("'stream_options.include_usage' must be true or false.", 'stream_options.include_usage');
    }
    wantsUsage = includeUsage === true;
  }

  const maxTokens = optionalPositive(body, 'max_tokens');
  const maxCompletionTokens = optionalPositive(body, 'max_completion_tokens');
  if (maxTokens !== null && maxCompletionTokens !== null) {
    throw new InvalidRequestError("Give either 'max_tokens' or 'max_completion_tokens', not both.", 'max_tokens');
  }
  const choices = optionalPositive(body, 'n', MOST_CHOICES) ?? 1;

  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) throw new InvalidRequestError("'tools' must be a list.", 'tools');
  if (body.functions !== undefined && body.functions !== null && !Array.isArray(body.functions)) throw new InvalidRequestError("'functions' must be a list.", 'functions');
  if (body.response_format !== undefined && body.response_format !== null && !isObject(body.response_format)) {
    throw new InvalidRequestError("'response_format' must be an object.", 'response_format');
  }
  if ((Array.isArray(body.modalities) && body.modalities.includes('audio')) || (body.audio !== undefined && body.audio !== null)) {
    throw new InvalidRequestError('Audio output is not supported yet.', body.audio !== undefined && body.audio !== null ? 'audio' : 'modalities', 'unsupported_content');
  }

  return {
    body,
    model: body.model,
    input: { messages, tools: body.tools, functions: body.functions, response_format: body.response_format },
    stream,
    wantsUsage,
    requestedOutputTokens: maxCompletionTokens ?? maxTokens,
    limitField: maxCompletionTokens !== null ? 'max_completion_tokens' : 'max_tokens',
    choices,
  };
}
