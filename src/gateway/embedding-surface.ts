// Embeddings as a metered surface: the checked body, its input count, the upstream call, and the
// usage and id of an answer. An embedding writes no output and is never streamed.
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import { countEmbeddingInputTokens } from './embedding-input.ts';
import { parseEmbeddingRequest, type EmbeddingRequest } from './embedding-request.ts';
import { reportedTokens, type ReportedTokens, type Surface } from './surface.ts';
import type { UpstreamTarget } from './upstream-pool.ts';

/** The upstream's count of the input; null when it sent none (or nonsense). Output is always 0. */
function countsOf(usage: CreateEmbeddingResponse.Usage | null | undefined): ReportedTokens | null {
  if (!usage) return null;
  return reportedTokens({ input: usage.prompt_tokens, output: 0, cached: 0, reasoning: 0 });
}

/** parseEmbeddingRequest never asks for a stream, so the shared path never calls these. */
function neverStreamed(): never {
  throw new Error('embeddings are never streamed');
}

export const embeddingSurface: Surface<EmbeddingRequest, CreateEmbeddingResponse, never> = {
  rateKind: 'embeddings',
  endpoint: 'embeddings',
  parse: parseEmbeddingRequest,
  countInput: (request, signal) => countEmbeddingInputTokens(request.input, signal),
  // Only the checked fields, with the upstream's name for the model; no output limit to send.
  complete: ({ client, model }: UpstreamTarget, request, _outputLimit, signal) => client.embeddings.create({ ...request.forward, model }, { signal }),
  stream: neverStreamed,
  answerTokens: (response) => countsOf(response.usage),
  // An embedding has no output text: without usage, the input counted here is charged.
  addAnswerOutput: () => {},
  // The embeddings answer carries no id of its own.
  answerId: () => null,
  chunkReader: neverStreamed,
};
