// Validates a Responses request body before anything is reserved, and keeps only what is forwarded
// upstream: the fields of responses-schema.ts, each checked, so what is sent is what is counted.
import { InvalidRequestError } from './errors.ts';
import { checkImageCount, responsesImages, type PromptImage } from './image-tokens.ts';
import { checkedBody, isObject, withoutNulls } from './request-body.ts';
import { responsesRequestSchema, type ResponsesRequestBody } from './responses-schema.ts';
import type { MeteredRequest } from './surface.ts';
import { responsesInputOf, type ResponsesInput } from './tokens.ts';

/** The parts of the body the gateway acts on. */
export interface ResponsesRequest extends MeteredRequest {
  /** The fields forwarded upstream, checked, without nulls, with store: false; the gateway adds the output limit. */
  forward: Record<string, unknown>;
  /** What reaches the model as input, as checked here: the hold's token count reads it. */
  input: ResponsesInput;
  /** The input's images, counted by the hold from their sizes (image-tokens.ts). */
  images: PromptImage[];
  limitField: 'max_output_tokens';
}

/** tool_choice may only name a tool given in the body, whose JSON the hold counts. */
function checkNamedTools(body: ResponsesRequestBody): void {
  const choice = body.tool_choice;
  if (!isObject(choice)) return;
  const toolNames = new Set((body.tools ?? []).flatMap((tool) => (tool.type === 'function' || tool.type === 'custom' ? [`${tool.type}:${tool.name}`] : [])));
  const named = choice.type === 'allowed_tools' ? choice.tools : [choice];
  named.forEach((tool, index) => {
    if (toolNames.has(`${tool.type}:${tool.name}`)) return;
    const param = choice.type === 'allowed_tools' ? `tool_choice.tools[${index}]` : 'tool_choice';
    throw new InvalidRequestError(`'${param}' names the ${tool.type} tool '${tool.name}', which is not in 'tools'.`, param);
  });
}

/** Checks the body's shape; the model's presence on the rate card is checked by the caller. */
export function parseResponsesRequest(value: unknown): ResponsesRequest {
  const body = checkedBody(value, responsesRequestSchema);
  const stream = body.stream === true;
  if (body.stream_options != null && !stream) throw new InvalidRequestError("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
  checkNamedTools(body);
  const images = typeof body.input === 'string' ? [] : responsesImages(body.input);
  checkImageCount(images, 'input');

  const forward: Record<string, unknown> = { ...withoutNulls(body), store: false };
  for (const field of ['stream_options', 'text', 'reasoning'] as const) {
    const nested = body[field];
    if (nested) forward[field] = withoutNulls(nested);
  }
  return {
    forward,
    model: body.model,
    input: responsesInputOf(body),
    images,
    stream,
    requestedOutputTokens: body.max_output_tokens ?? null,
    limitField: 'max_output_tokens',
    choices: 1,
  };
}
