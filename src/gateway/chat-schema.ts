// The chat completion body tokentab accepts: every field it forwards, with its type and bounds, and
// the fields it refuses because it cannot price them yet. Anything else is an unknown parameter.
import { z } from 'zod';
import {
  MOST_LIST_ITEMS,
  MOST_TOOLS,
  content,
  countOf,
  identifier,
  jsonObject,
  metadataField,
  modelField,
  numberFrom,
  onlyFalse,
  promptCacheRetentionField,
  refused,
  refusedType,
  serviceTierField,
  wholeFrom,
} from './request-fields.ts';

export const MOST_MESSAGES = 2_048;
export const MOST_STOP_SEQUENCES = 4;
export const MOST_LOGIT_BIAS_ENTRIES = 1_024;
export const MOST_CHOICES = 128;

const textPart = z.strictObject({ type: z.literal('text'), text: z.string() });
const refusalPart = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });
/** An image by URL or data URL: the hold counts it from its size (image-tokens.ts). */
const imagePart = z.strictObject({
  type: z.literal('image_url'),
  image_url: z.strictObject({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
/** Parts the hold can't count yet. */
const unsupportedPart = (type: string) => refusedType(type, `is a content part of type '${type}', which is not supported yet: send text and images only`, 'unsupported_content');

const functionCall = z.strictObject({ name: z.string(), arguments: z.string() });
const toolCall = z.discriminatedUnion('type', [
  z.strictObject({ id: identifier, type: z.literal('function'), function: functionCall }),
  z.strictObject({ id: identifier, type: z.literal('custom'), custom: z.strictObject({ name: z.string(), input: z.string() }) }),
]);

const systemMessage = (role: 'system' | 'developer') => z.strictObject({ role: z.literal(role), content: content(textPart, 1), name: z.string().optional() });
const userMessage = z.strictObject({
  role: z.literal('user'),
  content: content(z.discriminatedUnion('type', [textPart, imagePart, ...['input_audio', 'file'].map(unsupportedPart)]), 1),
  name: z.string().optional(),
});
const assistantMessage = z.strictObject({
  role: z.literal('assistant'),
  // Without content an assistant message carries tool calls or a function call.
  content: content(z.discriminatedUnion('type', [textPart, refusalPart]), 0).nullish(),
  refusal: z.string().nullish(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).max(MOST_LIST_ITEMS).nullish(),
  function_call: functionCall.nullish(),
  audio: refused('refers to an audio reply, which is not supported yet: send text only', 'unsupported_content'),
  // Part of the reply message the SDK returns, so clients send it back with the conversation; it
  // says where the reply's text came from and is not forwarded.
  annotations: z.array(z.unknown()).max(MOST_LIST_ITEMS).nullish(),
});
const toolMessage = z.strictObject({ role: z.literal('tool'), content: content(textPart, 1), tool_call_id: identifier });
const functionMessage = z.strictObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string() });

export const chatMessage = z.discriminatedUnion('role', [systemMessage('system'), systemMessage('developer'), userMessage, assistantMessage, toolMessage, functionMessage]);

const functionTool = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({ name: z.string(), description: z.string().optional(), parameters: jsonObject.optional(), strict: z.boolean().nullish() }),
});
const customTool = z.strictObject({
  type: z.literal('custom'),
  custom: z.strictObject({ name: z.string(), description: z.string().optional(), format: jsonObject.optional() }),
});
const legacyFunction = z.strictObject({ name: z.string(), description: z.string().optional(), parameters: jsonObject.optional() });

const namedFunction = z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) });
const namedCustom = z.strictObject({ type: z.literal('custom'), custom: z.strictObject({ name: z.string() }) });
const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.discriminatedUnion('type', [
      namedFunction,
      namedCustom,
      z.strictObject({
        type: z.literal('allowed_tools'),
        allowed_tools: z.strictObject({ mode: z.enum(['auto', 'required']), tools: z.array(z.discriminatedUnion('type', [namedFunction, namedCustom])).max(MOST_TOOLS) }),
      }),
    ]),
  ],
  { error: "must be 'none', 'auto', 'required' or an object naming a tool" },
);

const responseFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({
    type: z.literal('json_schema'),
    json_schema: z.strictObject({ name: z.string(), description: z.string().optional(), schema: jsonObject.optional(), strict: z.boolean().nullish() }),
  }),
]);

/**
 * Every field tokentab forwards upstream. An explicit null means "not given" and is not forwarded.
 * Fields that cost input tokens are counted by the hold (messages, tools, functions,
 * response_format, prediction); tool_choice and function_call only name tools given here.
 */
export const chatRequestSchema = z.strictObject({
  model: modelField,
  messages: z.array(chatMessage, { error: 'must be a non-empty list' }).min(1, { error: 'must be a non-empty list' }).max(MOST_MESSAGES),
  max_tokens: wholeFrom(1).nullish(),
  max_completion_tokens: wholeFrom(1).nullish(),
  n: wholeFrom(1, MOST_CHOICES).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() }).nullish(),
  temperature: numberFrom(0, 2).nullish(),
  top_p: numberFrom(0, 1).nullish(),
  presence_penalty: numberFrom(-2, 2).nullish(),
  frequency_penalty: numberFrom(-2, 2).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(MOST_STOP_SEQUENCES)], { error: `must be a string or a list of at most ${MOST_STOP_SEQUENCES} strings` }).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d{1,9}$/, { error: 'must have token ids as keys' }), numberFrom(-100, 100))
    .refine((bias) => countOf(bias) <= MOST_LOGIT_BIAS_ENTRIES, { error: `must have at most ${MOST_LOGIT_BIAS_ENTRIES} entries` })
    .nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: wholeFrom(0, 20).nullish(),
  seed: z.int({ error: 'must be a whole number' }).nullish(),
  user: identifier.nullish(),
  safety_identifier: identifier.nullish(),
  prompt_cache_key: identifier.nullish(),
  prompt_cache_retention: promptCacheRetentionField.nullish(),
  tools: z.array(z.discriminatedUnion('type', [functionTool, customTool])).max(MOST_TOOLS).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(legacyFunction).max(MOST_TOOLS).nullish(),
  function_call: z.union([z.enum(['none', 'auto']), z.strictObject({ name: z.string() })], { error: "must be 'none', 'auto' or an object naming a function" }).nullish(),
  response_format: responseFormat.nullish(),
  // The predicted reply: the hold counts its text as input.
  prediction: z.strictObject({ type: z.literal('content'), content: content(textPart, 1) }).nullish(),
  service_tier: serviceTierField.nullish(),
  metadata: metadataField.nullish(),
  // Stored completions would live in the operator's upstream account, out of the caller's reach.
  store: onlyFalse('can only be false: stored completions are not supported').nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
  verbosity: z.enum(['low', 'medium', 'high']).nullish(),
  modalities: z
    .array(z.enum(['text', 'audio']))
    .max(2)
    .refine((modalities) => !modalities.includes('audio'), { error: 'asks for audio output, which is not supported yet', params: { code: 'unsupported_content' } })
    .nullish(),
  audio: refused('asks for audio output, which is not supported yet', 'unsupported_content'),
  web_search_options: refused('is not supported yet: web search is priced per call, and the rate card has no such rate', 'unsupported_parameter'),
});

export type ChatRequestBody = z.output<typeof chatRequestSchema>;
export type ChatMessageBody = z.output<typeof chatMessage>;
