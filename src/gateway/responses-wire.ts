// OpenAI's Responses wire format in one place: response objects, their usage, the events of a
// streamed answer in OpenAI's order, and the SSE frame of an event (`event: <type>` + `data: <json>`).
import { randomBytes } from 'node:crypto';
import type { Response, ResponseOutputItem, ResponseOutputMessage, ResponseStreamEvent, ResponseUsage } from 'openai/resources/responses/responses';

/** A response as it travels: `output_text` is not sent, the SDK adds it from `output`. */
export type WireResponse = Omit<Response, 'output_text'>;

/** What every event of one answer repeats. */
export interface ResponseHeader {
  id: string;
  createdSeconds: number;
  model: string;
  /** The request's max_output_tokens, echoed in the response. */
  maxOutputTokens: number | null;
}

export interface ResponseUsageCounts {
  inputTokens: number;
  outputTokens: number;
  cachedTokens?: number;
  /** Output tokens spent reasoning: already within outputTokens. */
  reasoningTokens?: number;
}

/** How an answer ends: whole, cut at max_output_tokens, or failed upstream. */
export type ResponseEnding = 'completed' | 'incomplete' | 'failed';

export interface ResponsePlan {
  /** The reply's text in the pieces it is streamed in (joined for a whole answer). */
  pieces: readonly string[];
  ending: ResponseEnding;
  /** The usage the answer reports; null leaves it out, as some compatible servers do. */
  usage: ResponseUsage | null;
  /** A reasoning item (with an empty summary) before the message, as a reasoning model's answer has. */
  reasoning: boolean;
}

/** `resp_` and 48 random hex characters, or `resp_{tag}_…` to tell a source apart. */
export function newResponseId(tag?: string): string {
  return `resp_${tag ? `${tag}_` : ''}${randomBytes(24).toString('hex')}`;
}

export function responseUsage(counts: ResponseUsageCounts): ResponseUsage {
  return {
    input_tokens: counts.inputTokens,
    input_tokens_details: { cached_tokens: counts.cachedTokens ?? 0 },
    output_tokens: counts.outputTokens,
    output_tokens_details: { reasoning_tokens: counts.reasoningTokens ?? 0 },
    total_tokens: counts.inputTokens + counts.outputTokens,
  };
}

const itemId = (prefix: string, header: ResponseHeader) => `${prefix}_${header.id.slice('resp_'.length)}`;

function reasoningItem(header: ResponseHeader): ResponseOutputItem {
  return { id: itemId('rs', header), type: 'reasoning', summary: [] };
}

function messageItem(header: ResponseHeader, text: string | null, status: ResponseOutputMessage['status']): ResponseOutputMessage {
  return {
    id: itemId('msg', header),
    type: 'message',
    status,
    role: 'assistant',
    content: text === null ? [] : [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

function response(header: ResponseHeader, status: Response['status'], output: ResponseOutputItem[], usage: ResponseUsage | null, ending: ResponseEnding | null): WireResponse {
  return {
    id: header.id,
    object: 'response',
    created_at: header.createdSeconds,
    status,
    background: false,
    error: ending === 'failed' ? { code: 'server_error', message: 'The model failed while generating the answer.' } : null,
    incomplete_details: ending === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: null,
    max_output_tokens: header.maxOutputTokens,
    metadata: {},
    model: header.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    ...(usage ? { usage } : {}),
  };
}

/** A whole answer as it ends: its output items, status and usage. */
export function responseObject(header: ResponseHeader, plan: ResponsePlan): WireResponse {
  const output = [...(plan.reasoning ? [reasoningItem(header)] : []), messageItem(header, plan.pieces.join(''), plan.ending === 'completed' ? 'completed' : 'incomplete')];
  return response(header, plan.ending, output, plan.usage, plan.ending);
}

/** An event before it is numbered. */
type Unnumbered<Event> = Event extends unknown ? Omit<Event, 'sequence_number'> : never;

/**
 * Every event of a streamed answer, in OpenAI's order, numbered from 0: created, in progress, the
 * reasoning item (added, done), the message item with its text part (added, the text deltas, done),
 * then `response.completed`, `response.incomplete` or `response.failed` carrying the whole answer.
 */
export function responseEvents(header: ResponseHeader, plan: ResponsePlan): ResponseStreamEvent[] {
  const events: Unnumbered<ResponseStreamEvent>[] = [];
  const started = response(header, 'in_progress', [], null, null);
  events.push({ type: 'response.created', response: started as Response }, { type: 'response.in_progress', response: started as Response });
  let outputIndex = 0;
  if (plan.reasoning) {
    events.push({ type: 'response.output_item.added', output_index: 0, item: reasoningItem(header) }, { type: 'response.output_item.done', output_index: 0, item: reasoningItem(header) });
    outputIndex = 1;
  }
  const text = plan.pieces.join('');
  const item_id = itemId('msg', header);
  const at = { item_id, output_index: outputIndex, content_index: 0 };
  events.push({ type: 'response.output_item.added', output_index: outputIndex, item: messageItem(header, null, 'in_progress') });
  events.push({ type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } });
  for (const delta of plan.pieces) events.push({ type: 'response.output_text.delta', ...at, delta, logprobs: [] });
  if (plan.ending !== 'failed') {
    events.push({ type: 'response.output_text.done', ...at, text, logprobs: [] });
    events.push({ type: 'response.content_part.done', ...at, part: { type: 'output_text', text, annotations: [] } });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item: messageItem(header, text, plan.ending === 'completed' ? 'completed' : 'incomplete') });
  }
  const whole = responseObject(header, plan) as Response;
  events.push({ type: `response.${plan.ending}`, response: whole } as Unnumbered<ResponseStreamEvent>);
  return events.map((event, index) => ({ ...event, sequence_number: index }) as ResponseStreamEvent);
}

/** One server-sent event of a Responses stream: its type on the `event:` line, itself as JSON on the `data:` line. */
export function sseEventFrame(event: { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
