// Validates a chat completion request body before anything is reserved, and keeps only what is
// forwarded upstream: the fields of chat-schema.ts, each checked, so what is sent is what is counted.
import { chatRequestSchema, type ChatMessageBody, type ChatRequestBody } from './chat-schema.ts';
import { InvalidRequestError } from './errors.ts';
import { wantsUsageChunk } from './openai-wire.ts';
import { chatImages, checkImageCount, type PromptImage } from './image-tokens.ts';
import { checkedBody, isObject, withoutNulls } from './request-body.ts';
import type { MeteredRequest } from './surface.ts';
import type { ChatInput, ChatInputMessage } from './tokens.ts';

/** The parts of the body the gateway acts on; requestedOutputTokens is max_completion_tokens or max_tokens, choices is n. */
export interface ChatRequest extends MeteredRequest {
  /** The fields forwarded upstream, checked, without nulls; the gateway adds the output limit and stream_options. */
  forward: Record<string, unknown>;
  /** What reaches the model as input, as checked here: the hold's token count reads it. */
  input: ChatInput;
  /** The messages' images, counted by the hold from their sizes (image-tokens.ts). */
  images: PromptImage[];
  /** The client asked for the usage chunk at the end of its stream. */
  wantsUsage: boolean;
  /** The field the output limit is sent in: the one the client used, else max_tokens (understood by every compatible server). */
  limitField: 'max_tokens' | 'max_completion_tokens';
}

/** A message as forwarded: its annotations (where a previous reply's text came from) stay here. */
function forwardedMessage(message: ChatMessageBody): ChatInputMessage {
  if (message.role !== 'assistant') return message;
  const { annotations: _annotations, ...rest } = message;
  // Without its nulls, an assistant message has the counter's types (no null tool_calls).
  return withoutNulls(rest) as ChatInputMessage;
}

/** tool_choice and function_call may only name a tool or function given in the body, whose JSON the hold counts. */
function checkNamedTools(body: ChatRequestBody): void {
  const toolNames = new Set((body.tools ?? []).map((tool) => (tool.type === 'function' ? tool.function.name : tool.custom.name)));
  const choice = body.tool_choice;
  if (isObject(choice)) {
    const named = choice.type === 'allowed_tools' ? choice.allowed_tools.tools : [choice];
    named.forEach((tool, index) => {
      const name = tool.type === 'function' ? tool.function.name : tool.custom.name;
      if (toolNames.has(name)) return;
      const param = choice.type === 'allowed_tools' ? `tool_choice.allowed_tools.tools[${index}]` : 'tool_choice';
      throw new InvalidRequestError(`'${param}' names the tool '${name}', which is not in 'tools'.`, param);
    });
  }
  const call = body.function_call;
  if (isObject(call) && !(body.functions ?? []).some((fn) => fn.name === call.name)) {
    throw new InvalidRequestError(`'function_call' names the function '${call.name}', which is not in 'functions'.`, 'function_call');
  }
}

/** Checks the body's shape; the model's presence on the rate card is checked by the caller. */
export function parseChatRequest(value: unknown): ChatRequest {
  const body = checkedBody(value, chatRequestSchema);

  const stream = body.stream === true;
  if (body.stream_options != null && !stream) throw new InvalidRequestError("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
  if (body.max_tokens != null && body.max_completion_tokens != null) {
    throw new InvalidRequestError("Give either 'max_tokens' or 'max_completion_tokens', not both.", 'max_tokens');
  }
  checkNamedTools(body);
  const images = chatImages(body.messages);
  checkImageCount(images, 'messages');

  const messages = body.messages.map(forwardedMessage);
  const forward: Record<string, unknown> = { ...withoutNulls(body), messages };
  if (body.stream_options) forward.stream_options = withoutNulls(body.stream_options);
  return {
    forward,
    model: body.model,
    input: { messages, tools: body.tools, functions: body.functions, response_format: body.response_format, prediction: body.prediction },
    images,
    stream,
    wantsUsage: wantsUsageChunk(body),
    requestedOutputTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
    limitField: body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens',
    choices: body.n ?? 1,
  };
}
