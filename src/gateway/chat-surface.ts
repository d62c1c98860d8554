// Chat completions as a metered surface: the checked body, its input count, the upstream call with
// the decided limit, and what the usage, output and id of an answer or a chunk are.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { parseChatRequest, type ChatRequest } from './chat-request.ts';
import { promptImageTokens } from './image-tokens.ts';
import { ReceivedOutput } from './output-text.ts';
import { reportedTokens, type ChunkReader, type ReportedTokens, type Surface } from './surface.ts';
import { countChatInputTokens } from './tokens.ts';
import type { UpstreamTarget } from './upstream-pool.ts';

/** Only the checked fields (chat-request.ts), the upstream's name for the model, the output limit decided here, and always the usage chunk. */
function upstreamParams(request: ChatRequest, model: string, outputLimit: number): ChatCompletionCreateParams {
  const params: Record<string, unknown> = { ...request.forward, model, [request.limitField]: outputLimit };
  if (request.stream) params.stream_options = { ...((params.stream_options as object | undefined) ?? {}), include_usage: true };
  return params as unknown as ChatCompletionCreateParams;
}

/** The upstream's own counts, cached input and reasoning included; null when it sent none (or nonsense). */
function countsOf(usage: CompletionUsage | null | undefined): ReportedTokens | null {
  if (!usage) return null;
  return reportedTokens({
    input: usage.prompt_tokens,
    output: usage.completion_tokens,
    cached: usage.prompt_tokens_details?.cached_tokens,
    reasoning: usage.completion_tokens_details?.reasoning_tokens,
  });
}

/** The chunk as the client should see it: the usage chunk and usage fields only if it asked for them. */
function forClient(chunk: ChatCompletionChunk, wantsUsage: boolean): ChatCompletionChunk | null {
  if (wantsUsage || !('usage' in chunk)) return chunk;
  if (chunk.usage && (chunk.choices?.length ?? 0) === 0) return null;
  const { usage: _usage, ...rest } = chunk;
  return rest as ChatCompletionChunk;
}

class ChatChunkReader implements ChunkReader<ChatCompletionChunk> {
  readonly output = new ReceivedOutput();
  upstreamResponseId: string | null = null;
  private usage: CompletionUsage | null = null;

  constructor(private readonly wantsUsage: boolean) {}

  read(chunk: ChatCompletionChunk): ChatCompletionChunk | null {
    this.upstreamResponseId ??= chunk.id ?? null;
    this.output.addChunk(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    return forClient(chunk, this.wantsUsage);
  }

  reportedTokens(): ReportedTokens | null {
    return countsOf(this.usage);
  }

  failure(): null {
    return null;
  }
}

export const chatSurface: Surface<ChatRequest, ChatCompletion, ChatCompletionChunk> = {
  rateKind: 'chat',
  endpoint: 'chat',
  parse: parseChatRequest,
  // The images first: a refused one stops the call before a long text is counted.
  countInput: async (request, signal, images) => (await promptImageTokens(request.model, request.images, images, signal)) + (await countChatInputTokens(request.input, signal)),
  complete: ({ client, model }: UpstreamTarget, request, outputLimit, signal) =>
    client.chat.completions.create(upstreamParams(request, model, outputLimit), { signal }) as Promise<ChatCompletion>,
  stream: ({ client, model }: UpstreamTarget, request, outputLimit, signal) =>
    client.chat.completions.create(upstreamParams(request, model, outputLimit), { signal }) as unknown as Promise<AsyncIterable<ChatCompletionChunk>>,
  answerTokens: (completion) => countsOf(completion.usage),
  addAnswerOutput: (completion, output) => output.addCompletion(completion),
  answerId: (completion) => completion.id ?? null,
  chunkReader: (request) => new ChatChunkReader(request.wantsUsage),
};
