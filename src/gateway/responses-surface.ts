// The Responses API as a metered surface: the checked body, its input count, the upstream call with
// the decided max_output_tokens, and what the usage, output and id of an answer or a stream event are.
import type { Response, ResponseCreateParams, ResponseOutputItem, ResponseStreamEvent, ResponseUsage } from 'openai/resources/responses/responses';
import { UpstreamFailure } from './errors.ts';
import { promptImageTokens } from './image-tokens.ts';
import { ReceivedOutput } from './output-text.ts';
import { parseResponsesRequest, type ResponsesRequest } from './responses-request.ts';
import type { WireResponse } from './responses-wire.ts';
import { reportedTokens, type ChunkReader, type ReportedTokens, type Surface } from './surface.ts';
import { countResponsesInputTokens } from './tokens.ts';
import type { UpstreamTarget } from './upstream-pool.ts';

/** Only the checked fields (responses-request.ts, store: false included), the upstream's name for the model and the output limit decided here. */
function upstreamParams(request: ResponsesRequest, model: string, outputLimit: number): ResponseCreateParams {
  return { ...request.forward, model, max_output_tokens: outputLimit } as unknown as ResponseCreateParams;
}

/** The upstream's own counts: cached input and reasoning tokens included; null when it sent none (or nonsense). */
function countsOf(usage: ResponseUsage | null | undefined): ReportedTokens | null {
  if (!usage) return null;
  return reportedTokens({
    input: usage.input_tokens,
    output: usage.output_tokens,
    cached: usage.input_tokens_details?.cached_tokens,
    reasoning: usage.output_tokens_details?.reasoning_tokens,
  });
}

/** The text of one output item of a whole answer: what the model wrote, tool calls' names and arguments, reasoning. */
function addItemOutput(item: ResponseOutputItem, index: number, output: ReceivedOutput): void {
  switch (item.type) {
    case 'message':
      for (const part of item.content ?? []) output.addText(index, part.type === 'output_text' ? part.text : part.refusal);
      return;
    case 'function_call':
      output.addText(index, item.name);
      output.addText(index, item.arguments);
      return;
    case 'custom_tool_call':
      output.addText(index, item.name);
      output.addText(index, item.input);
      return;
    case 'reasoning':
      for (const part of [...(item.summary ?? []), ...(item.content ?? [])]) output.addText(index, part.text);
      return;
  }
}

/** Reads a Responses stream's events as they pass; every event reaches the client as it came. */
class ResponsesEventReader implements ChunkReader<ResponseStreamEvent> {
  readonly output = new ReceivedOutput();
  upstreamResponseId: string | null = null;
  private usage: ResponseUsage | null = null;
  /** response.completed or response.incomplete came: the answer ended as the upstream meant it to. */
  private ended = false;
  private failed = false;

  read(event: ResponseStreamEvent): ResponseStreamEvent {
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        this.upstreamResponseId ??= event.response?.id ?? null;
        break;
      case 'response.output_item.added':
        if (event.item?.type === 'function_call' || event.item?.type === 'custom_tool_call') this.output.addText(event.output_index, event.item.name);
        break;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
      case 'response.reasoning_text.delta':
      case 'response.reasoning_summary_text.delta':
        this.output.addText(event.output_index, event.delta);
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.ended = true;
        this.upstreamResponseId ??= event.response?.id ?? null;
        this.usage = event.response?.usage ?? null;
        break;
      case 'response.failed':
      case 'error':
        this.failed = true;
        break;
    }
    return event;
  }

  reportedTokens(): ReportedTokens | null {
    return countsOf(this.usage);
  }

  /** A failed answer, an error event, or a stream that stopped before the answer's end: the upstream broke off. */
  failure(): UpstreamFailure | null {
    if (this.failed) return new UpstreamFailure('failed');
    return this.ended ? null : new UpstreamFailure('broken');
  }
}

export const responsesSurface: Surface<ResponsesRequest, WireResponse, ResponseStreamEvent> = {
  rateKind: 'chat',
  endpoint: 'responses',
  parse: parseResponsesRequest,
  countInput: async (request, signal, images) => (await promptImageTokens(request.model, request.images, images, signal)) + (await countResponsesInputTokens(request.input, signal)),
  complete: async ({ client, model }: UpstreamTarget, request, outputLimit, signal) => {
    // The SDK adds `output_text` to the answer; the client gets the answer as the upstream sent it.
    const { output_text: _added, ...answer } = (await client.responses.create(upstreamParams(request, model, outputLimit), { signal })) as Response;
    // A whole answer the upstream reports as failed is a failure like an error status: nothing is charged.
    if (answer.status === 'failed') throw new UpstreamFailure('failed');
    return answer;
  },
  stream: ({ client, model }: UpstreamTarget, request, outputLimit, signal) =>
    client.responses.create(upstreamParams(request, model, outputLimit), { signal }) as unknown as Promise<AsyncIterable<ResponseStreamEvent>>,
  answerTokens: (answer) => countsOf(answer.usage),
  addAnswerOutput: (answer, output) => (answer.output ?? []).forEach((item, index) => addItemOutput(item, index, output)),
  answerId: (answer) => answer.id ?? null,
  chunkReader: () => new ResponsesEventReader(),
};
