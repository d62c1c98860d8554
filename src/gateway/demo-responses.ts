// The demo model's Responses answers (POST …/responses): OpenAI's checks on what the answer depends
// on, then the reply as a response or the events of its stream, usage counted with the real tokenizer.
import { DEMO_CHAT_MODELS, isPositiveWhole, limitedText, streamOptionsRefusal, type DemoEndpoint, type DemoRefusal } from './demo-answer.ts';
import { demoReplyText } from './demo-reply.ts';
import { promptImageTokens, responsesImages } from './image-tokens.ts';
import { isObject } from './request-body.ts';
import { newResponseId, responseEvents, responseObject, responseUsage, sseEventFrame, type ResponseHeader, type ResponsePlan } from './responses-wire.ts';
import { countResponsesInputTokens, countTextTokens, responsesInputOf, splitTextByTokens, type ResponsesInputItem } from './tokens.ts';

/** OpenAI refuses a smaller max_output_tokens. */
const LEAST_OUTPUT_TOKENS = 16;

interface DemoResponsesRequest {
  model: string;
  input: string | ResponsesInputItem[];
  instructions?: string | null;
  max_output_tokens?: number | null;
  stream?: boolean | null;
  tools?: unknown;
  text?: { format?: unknown } | null;
}

/** Each item an object whose texts are strings or lists of parts, so the counter can read it. */
function checkItems(items: unknown[]): DemoRefusal | null {
  for (const [index, item] of items.entries()) {
    const texts = isObject(item) ? [item.content, item.output] : [];
    const valid =
      isObject(item) &&
      texts.every((text) => text == null || typeof text === 'string' || (Array.isArray(text) && text.every(isObject))) &&
      ['role', 'call_id', 'name', 'arguments', 'input'].every((field) => item[field] == null || typeof item[field] === 'string');
    if (!valid) return { invalid: `Invalid input item at input[${index}].`, param: `input[${index}]` };
  }
  return null;
}

export const demoResponses: DemoEndpoint = {
  path: '/responses',
  models: DEMO_CHAT_MODELS,
  check(fields) {
    const input = fields.input;
    if (typeof input !== 'string' && !(Array.isArray(input) && input.length > 0)) return { invalid: "'input' must be a string or a non-empty array.", param: 'input' };
    if (Array.isArray(input)) {
      const refusal = checkItems(input);
      if (refusal) return refusal;
    }
    if (fields.instructions != null && typeof fields.instructions !== 'string') return { invalid: "Invalid 'instructions': expected a string.", param: 'instructions' };
    if (fields.max_output_tokens != null && !(isPositiveWhole(fields.max_output_tokens) && fields.max_output_tokens >= LEAST_OUTPUT_TOKENS)) {
      return { invalid: `Invalid 'max_output_tokens': expected an integer ≥ ${LEAST_OUTPUT_TOKENS}.`, param: 'max_output_tokens' };
    }
    return streamOptionsRefusal(fields);
  },
  async answer(fields, { clock, tokensPerChunk, images, signal }) {
    const body = fields as unknown as DemoResponsesRequest;
    const input = responsesInputOf(body);
    const limit = body.max_output_tokens ?? null;
    const { text, cut } = limitedText(demoReplyText(body.model, input.items), limit);
    // Images as OpenAI counts them, by the formula the hold uses (image-tokens.ts).
    const imageTokens = await promptImageTokens(body.model, responsesImages(input.items), images, signal);
    const usage = responseUsage({ inputTokens: (await countResponsesInputTokens(input)) + imageTokens, outputTokens: countTextTokens(text) });
    const header: ResponseHeader = { id: newResponseId('demo'), createdSeconds: Math.floor(clock.now() / 1000), model: body.model, maxOutputTokens: limit };
    const streaming = body.stream === true;
    const plan: ResponsePlan = { pieces: streaming ? splitTextByTokens(text, tokensPerChunk) : [text], ending: cut ? 'incomplete' : 'completed', usage, reasoning: false };
    return streaming ? { frames: responseEvents(header, plan).map(sseEventFrame) } : { json: responseObject(header, plan) };
  },
};
