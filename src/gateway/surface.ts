// What one kind of metered request (a "surface": chat completions, Responses, embeddings) supplies to
// the shared path of admit → reserve → upstream → settle, so each kind reuses that path instead of copying it.
import type { RateKind, UsageEndpoint } from '../db/schema.ts';
import type { TokenCounts } from '../pricing/cost.ts';
import type { UpstreamFailure } from './errors.ts';
import type { ImageSizer } from './image-source.ts';
import type { ReceivedOutput } from './output-text.ts';
import type { UpstreamTarget } from './upstream-pool.ts';

/** The upstream's own counts; reasoning tokens (when it says) are already within the output tokens. */
export interface ReportedTokens extends TokenCounts {
  reasoningTokens?: number;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * An upstream's usage read as counts: input and output whole numbers ≥ 0 (else null: it sent
 * nonsense), cached input and reasoning each a part of its total (anything else is taken as 0).
 */
export function reportedTokens(counts: { input: unknown; output: unknown; cached: unknown; reasoning: unknown }): ReportedTokens | null {
  const { input, output } = counts;
  if (!isCount(input) || !isCount(output)) return null;
  const partOf = (part: unknown, whole: number) => (isCount(part) ? Math.min(part, whole) : 0);
  return { inputTokens: input, cachedInputTokens: partOf(counts.cached, input), outputTokens: output, reasoningTokens: partOf(counts.reasoning, output) };
}

/** What the shared path reads of a parsed request, whatever its kind. */
export interface MeteredRequest {
  model: string;
  stream: boolean;
  /** The output limit the client asked for, if any; 0 for a request that writes no output (embeddings). */
  requestedOutputTokens: number | null;
  /** The body field that carries the output limit: named in refusals, and sent upstream with the limit decided here; null when there is none. */
  limitField: string | null;
  /** Answers asked for (chat's `n`): each has its own output. */
  choices: number;
}

/**
 * Reads one streamed answer's chunks as they pass: the output received (for an estimate), the usage
 * the upstream reported, its response id, and what the client gets of each chunk. One per stream.
 */
export interface ChunkReader<Chunk> {
  /** Records the chunk; returns it as the client should see it, or null when the client gets none of it. */
  read(chunk: Chunk): Chunk | null;
  readonly output: ReceivedOutput;
  /** The upstream's id for this answer, from its first chunk that has one. */
  readonly upstreamResponseId: string | null;
  /** The upstream's own counts, once its usage chunk has come; null until then (or when it sent nonsense). */
  reportedTokens(): ReportedTokens | null;
  /**
   * Read once the stream has ended: the failure the upstream reported inside it (an error event), or
   * its stopping before its last event (for a kind whose stream has one); null otherwise.
   */
  failure(): UpstreamFailure | null;
}

/** A request kind: how its body is checked and counted, how the upstream is called, and how its answers are read. */
export interface Surface<Request extends MeteredRequest, Answer, Chunk> {
  /** The kind of model on the rate card this request kind may use. */
  readonly rateKind: RateKind;
  /** What its usage rows say it metered. */
  readonly endpoint: UsageEndpoint;
  /** Checks the body before anything is reserved; throws InvalidRequestError. The rate card is checked by the caller. */
  parse(body: unknown): Request;
  /**
   * Input tokens as the hold counts them (an upper bound where exact counting is slow), images
   * included, sized with `images`; a stopped signal stops the count.
   */
  countInput(request: Request, signal: AbortSignal, images: ImageSizer): Promise<number>;
  /** The upstream call for a whole answer, with the output limit decided here, naming the model as `upstream` knows it. */
  complete(upstream: UpstreamTarget, request: Request, outputLimit: number, signal: AbortSignal): Promise<Answer>;
  /** The upstream call for a streamed answer, with the output limit decided here and the usage chunk always asked for, naming the model as `upstream` knows it. */
  stream(upstream: UpstreamTarget, request: Request, outputLimit: number, signal: AbortSignal): Promise<AsyncIterable<Chunk>>;
  /** The upstream's counts in a whole answer; null when it sent none (or nonsense). */
  answerTokens(answer: Answer): ReportedTokens | null;
  /** Adds a whole answer's output text, for an estimate when it came without usage. */
  addAnswerOutput(answer: Answer, output: ReceivedOutput): void;
  answerId(answer: Answer): string | null;
  chunkReader(request: Request): ChunkReader<Chunk>;
}
