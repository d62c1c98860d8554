// The Responses body tokentab accepts (POST /v1/responses): every field it forwards, with its type and
// bounds, and what it refuses because it cannot count or price it yet. Anything else is an unknown parameter.
import { z } from 'zod';
import {
  MOST_LIST_ITEMS,
  MOST_TOOLS,
  content,
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

export const MOST_INPUT_ITEMS = 2_048;

const inputText = z.strictObject({ type: z.literal('input_text'), text: z.string() });
/**
 * An earlier answer's text, as the SDK returns it in `output` (clients send it back with the
 * conversation): its annotations and logprobs say where the text came from and how likely it was;
 * they are accepted and not forwarded (sent as an empty list of annotations), so what reaches the
 * model is what is counted.
 */
const outputText = z
  .strictObject({
    type: z.literal('output_text'),
    text: z.string(),
    annotations: z.array(z.unknown()).max(MOST_LIST_ITEMS).nullish(),
    logprobs: z.array(z.unknown()).max(MOST_LIST_ITEMS).nullish(),
  })
  .transform(({ text }) => ({ type: 'output_text' as const, text, annotations: [] as never[] }));
const refusalPart = z.strictObject({ type: z.literal('refusal'), refusal: z.string() });
/**
 * An image by URL or data URL: the hold counts it from its size (image-tokens.ts). One given by
 * `file_id` lives in the operator's upstream account and cannot be sized; `original` detail has no
 * published count for the rate card's models.
 */
const inputImage = z
  .strictObject({
    type: z.literal('input_image'),
    image_url: z.string().nullish(),
    file_id: z.string().nullish(),
    detail: z.enum(['low', 'high', 'auto', 'original']).optional(),
  })
  .superRefine((part, ctx) => {
    if (part.file_id != null) {
      ctx.addIssue({ code: 'custom', path: ['file_id'], message: 'is not supported: an uploaded file cannot be sized for the hold; send the image as `image_url` (an https URL or a data URL)', params: { code: 'unsupported_content' } });
    } else if (part.image_url == null) {
      ctx.addIssue({ code: 'custom', path: ['image_url'], message: 'is required: an https URL or a data URL of the image' });
    }
    if (part.detail === 'original') {
      ctx.addIssue({ code: 'custom', path: ['detail'], message: "is 'original', which is not supported yet: its cost is not published for every model; use 'low', 'high' or 'auto'", params: { code: 'unsupported_content' } });
    }
  });
/** Parts the hold can't count yet. */
const MEDIA_PARTS = ['input_file', 'input_audio'];
const mediaPart = (type: string) => refusedType(type, `is a content part of type '${type}', which is not supported yet: send text and images only`, 'unsupported_content');
const inputPart = z.discriminatedUnion('type', [inputText, inputImage, ...MEDIA_PARTS.map(mediaPart)]);
const assistantPart = z.discriminatedUnion('type', [outputText, refusalPart, inputText]);

const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']);

// A message may leave out its `type` (the SDK's EasyInputMessage); it is forwarded as it came.
const instructedMessage = (role: 'user' | 'system' | 'developer') =>
  z.strictObject({ type: z.literal('message').optional(), role: z.literal(role), content: content(inputPart, 1), status: itemStatus.nullish() });
const assistantMessage = z.strictObject({
  type: z.literal('message').optional(),
  role: z.literal('assistant'),
  content: content(assistantPart, 0),
  id: identifier.optional(),
  status: itemStatus.nullish(),
  phase: z.enum(['commentary', 'final_answer']).nullish(),
});
const message = z.discriminatedUnion('role', [instructedMessage('user'), instructedMessage('system'), instructedMessage('developer'), assistantMessage]);

/** A tool's output: text, as a string or input_text parts. */
const toolOutput = content(inputPart, 0);
const functionCall = z.strictObject({
  type: z.literal('function_call'),
  call_id: identifier,
  name: z.string(),
  arguments: z.string(),
  id: identifier.optional(),
  status: itemStatus.nullish(),
});
const functionCallOutput = z.strictObject({ type: z.literal('function_call_output'), call_id: identifier, output: toolOutput, id: identifier.nullish(), status: itemStatus.nullish() });
const customToolCall = z.strictObject({ type: z.literal('custom_tool_call'), call_id: identifier, name: z.string(), input: z.string(), id: identifier.optional() });
const customToolCallOutput = z.strictObject({ type: z.literal('custom_tool_call_output'), call_id: identifier, output: toolOutput, id: identifier.optional() });

/** Items whose content the hold cannot count: hosted tools' calls and results, reasoning, references to stored items. */
const REFUSED_ITEMS: Record<string, string> = {
  reasoning: 'is a reasoning item, which is not supported yet: its encrypted content cannot be counted; leave reasoning items out of input',
  item_reference: 'refers to a stored item, which is not supported: responses are not stored; send the item itself',
  compaction: 'is a compaction item, which is not supported yet: its encrypted content cannot be counted',
};
const HOSTED_TOOL_ITEMS = [
  'file_search_call', 'computer_call', 'computer_call_output', 'web_search_call', 'image_generation_call', 'code_interpreter_call', 'local_shell_call',
  'local_shell_call_output', 'shell_call', 'shell_call_output', 'apply_patch_call', 'apply_patch_call_output', 'mcp_list_tools', 'mcp_approval_request',
  'mcp_approval_response', 'mcp_call', 'tool_search_call', 'tool_search_output',
];
const refusedItem = (type: string) =>
  refusedType(type, REFUSED_ITEMS[type] ?? `is an item of type '${type}', which is not supported yet: only 'function' and 'custom' tools are metered`, 'unsupported_content');

/** An item reference may leave out its `type` too: named here (it is refused), so it is not taken for a message without a role. */
function withItemType(item: unknown): unknown {
  if (typeof item !== 'object' || item === null || Array.isArray(item) || 'type' in item || 'role' in item) return item;
  return 'id' in item ? { type: 'item_reference', ...item } : item;
}

export const inputItem = z.preprocess(
  withItemType,
  z.discriminatedUnion('type', [message, functionCall, functionCallOutput, customToolCall, customToolCallOutput, ...[...Object.keys(REFUSED_ITEMS), ...HOSTED_TOOL_ITEMS].map(refusedItem)]),
);

const functionTool = z.strictObject({
  type: z.literal('function'),
  name: z.string(),
  description: z.string().nullish(),
  parameters: jsonObject.nullish(),
  strict: z.boolean().nullish(),
});
const customTool = z.strictObject({ type: z.literal('custom'), name: z.string(), description: z.string().optional(), format: jsonObject.optional() });
/** Tools run by the upstream: priced per call or per result, which the rate card cannot express yet. */
const HOSTED_TOOLS = [
  'file_search', 'computer', 'computer_use_preview', 'web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11', 'mcp',
  'code_interpreter', 'image_generation', 'local_shell', 'shell', 'namespace', 'tool_search', 'apply_patch',
];
const hostedTool = (type: string) =>
  refusedType(type, `is a tool of type '${type}', which is not supported yet: only 'function' and 'custom' tools are metered`, 'unsupported_parameter');

const namedFunction = z.strictObject({ type: z.literal('function'), name: z.string() });
const namedCustom = z.strictObject({ type: z.literal('custom'), name: z.string() });
const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.discriminatedUnion('type', [
      namedFunction,
      namedCustom,
      z.strictObject({
        type: z.literal('allowed_tools'),
        mode: z.enum(['auto', 'required']),
        tools: z.array(z.discriminatedUnion('type', [namedFunction, namedCustom])).max(MOST_TOOLS),
      }),
    ]),
  ],
  { error: "must be 'none', 'auto', 'required' or an object naming a function or custom tool" },
);

const textFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text') }),
  z.strictObject({ type: z.literal('json_object') }),
  z.strictObject({ type: z.literal('json_schema'), name: z.string(), schema: jsonObject, description: z.string().optional(), strict: z.boolean().nullish() }),
]);

/** What `include` may ask for: the rest is about hosted tools or images, refused above. */
const INCLUDABLE = ['message.output_text.logprobs', 'reasoning.encrypted_content', 'message.input_image.image_url'] as const;
const HOSTED_INCLUDABLE = [
  'file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
] as const;

const NOT_STORED = 'responses are not stored, so a later call could not count what it refers to: send the whole conversation in `input`';

/**
 * Every field tokentab forwards upstream. An explicit null means "not given" and is not forwarded.
 * What costs input tokens is counted by the hold (instructions, input, tools, text.format);
 * tool_choice only names tools given here.
 */
export const responsesRequestSchema = z.strictObject({
  model: modelField,
  input: z.union([z.string(), z.array(inputItem).min(1, { error: 'must not be an empty list' }).max(MOST_INPUT_ITEMS)], {
    error: (issue) => (issue.input === undefined ? 'is required: a string or a list of input items' : 'must be a string or a list of input items'),
  }),
  instructions: z.string().nullish(),
  max_output_tokens: wholeFrom(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().nullish() }).nullish(),
  tools: z.array(z.discriminatedUnion('type', [functionTool, customTool, ...HOSTED_TOOLS.map(hostedTool)])).max(MOST_TOOLS).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_tool_calls: wholeFrom(1).nullish(),
  text: z.strictObject({ format: textFormat.nullish(), verbosity: z.enum(['low', 'medium', 'high']).nullish() }).nullish(),
  reasoning: z
    .strictObject({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
      generate_summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
    })
    .nullish(),
  include: z
    .array(
      z.enum([...INCLUDABLE, ...HOSTED_INCLUDABLE]).refine((value) => (INCLUDABLE as readonly string[]).includes(value), {
        error: (issue) => `is '${String(issue.input)}', which is not supported yet: it belongs to a hosted tool`,
        params: { code: 'unsupported_parameter' },
      }),
    )
    .max(INCLUDABLE.length + HOSTED_INCLUDABLE.length)
    .nullish(),
  temperature: numberFrom(0, 2).nullish(),
  top_p: numberFrom(0, 1).nullish(),
  top_logprobs: wholeFrom(0, 20).nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  metadata: metadataField.nullish(),
  user: identifier.nullish(),
  safety_identifier: identifier.nullish(),
  prompt_cache_key: identifier.nullish(),
  prompt_cache_retention: promptCacheRetentionField.nullish(),
  service_tier: serviceTierField.nullish(),
  // Stored responses would live in the operator's upstream account, out of the caller's reach, and
  // what refers to them could not be counted: tokentab always sends store: false.
  store: onlyFalse(`can only be false: ${NOT_STORED}`).nullish(),
  background: onlyFalse('can only be false: background responses are stored upstream and read later, which is not supported yet').nullish(),
  previous_response_id: refused(`is not supported yet: ${NOT_STORED}`, 'unsupported_parameter'),
  conversation: refused(`is not supported yet: conversations are stored upstream and their items could not be counted; send the whole conversation in \`input\``, 'unsupported_parameter'),
  prompt: refused('is not supported yet: a stored prompt template lives upstream and could not be counted; send its text in `instructions` or `input`', 'unsupported_parameter'),
  context_management: refused('is not supported yet: compaction upstream could not be counted', 'unsupported_parameter'),
});

export type ResponsesRequestBody = z.output<typeof responsesRequestSchema>;
