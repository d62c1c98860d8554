// A fake OpenAI for tests: a real HTTP server speaking the chat completions and Responses JSON and SSE
// wire formats and the embeddings JSON format, scripted per test.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  JSON_HEADERS,
  SSE_HEADERS,
  chatCompletion,
  contentChunk,
  errorBody,
  newCompletionId,
  roleChunk,
  sseFrame,
  streamFrames,
  usageObject,
  wantsUsageChunk,
  type CompletionHeader,
  type OpenAIErrorBody,
} from '../../src/gateway/openai-wire.ts';
import { countChatInputTokens, countTextTokens, splitTextByTokens, type ChatInput } from '../../src/gateway/tokens.ts';
import { responsesJson, responsesPartialFrames, responsesStreamFrames, slowPieces, type ResponsesBody, type ScriptedEnding, type ScriptedUsage } from './responses-answers.ts';
import { checkEmbeddingInput, countEmbeddingInputTokens, type EmbeddingInput } from '../../src/gateway/embedding-input.ts';
import { InvalidRequestError } from '../../src/gateway/errors.ts';
import { embeddingDimensions, embeddingResponse, hashedVector } from '../../src/gateway/embedding-wire.ts';

export type ErrorStatus = 400 | 401 | 403 | 404 | 422 | 429 | 500;

/**
 * What the fake does with the next request, on any endpoint (a Responses answer reads `usage`'s
 * prompt and completion tokens as its input and output tokens). An embeddings request knows 'ok'
 * (`usage.prompt_tokens` reported, else the input as the gateway counts it), 'held', 'no-usage',
 * 'error' and 'hang'; it gets one deterministic unit vector per input, of the dimensions asked.
 */
export type UpstreamBehaviour =
  /**
   * A normal answer, streamed or not as the request asks; usage defaults to the tokenizer's count.
   * `ending` (Responses only): `incomplete` (cut at max_output_tokens), `failed` (response.failed
   * after the text), `error` (an error event after the text); `completed` by default.
   */
  | { kind: 'ok'; text?: string; usage?: ScriptedUsage; chunkDelayMs?: number; ending?: ScriptedEnding }
  /** Kept open (nothing sent) until the test calls release(), then answered as 'ok' (usage null: none sent): calls in flight, late answers. */
  | { kind: 'held'; text?: string; usage?: ScriptedUsage | null }
  /** A stream that ends with [DONE] and no usage chunk (non-stream: no usage field), as some servers do. */
  | { kind: 'no-usage'; text?: string }
  /** An OpenAI-shaped error; a 429 carries Retry-After. */
  | { kind: 'error'; status: ErrorStatus; message?: string; retryAfterSeconds?: number }
  /** Reads the request and never answers: for timeouts. */
  | { kind: 'hang' }
  /** Reads the request and resets the connection without a byte of answer: a connection error before the headers. */
  | { kind: 'reset' }
  /** Answers 307 to the same path on this fake, which would answer 'ok' were the redirect followed. */
  | { kind: 'redirect' }
  /** Sends a stream's 200 and SSE headers, then resets the connection before any event. */
  | { kind: 'headers-then-reset' }
  /** Sends the role chunk and `chunks` content chunks, then destroys the socket. */
  | { kind: 'partial-then-error'; chunks: number }
  /** `chunks` content chunks, `chunkDelayMs` apart: for client disconnects. */
  | { kind: 'slow-stream'; chunks: number; chunkDelayMs: number };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or null if it was not JSON. */
  body: any;
  behaviour: UpstreamBehaviour;
  /** True once the client went away before the answer ended (an abort or a timeout on its side). */
  abortedByClient: boolean;
  /** What the fake wrote back, in order: a JSON body, or a stream's SSE frames. */
  sent: string[];
}

export const FAKE_DEFAULT_TEXT = 'Hello from the fake upstream. This answer is scripted by the test.';

/** OpenAI's error type and code for each status the fake can answer. */
const ERRORS: Record<ErrorStatus, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Country, region, or territory not supported.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist or you do not have access to it.' },
  422: { type: 'invalid_request_error', code: null, message: 'Unprocessable request.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
};

type Endpoint = 'chat' | 'responses' | 'embeddings';

/** The paths the fake answers. */
const ENDPOINTS: Record<string, Endpoint> = { '/v1/chat/completions': 'chat', '/v1/responses': 'responses', '/v1/embeddings': 'embeddings' };

/** Whether a JSON body has what the endpoint's answer is made from (else the fake's 400). */
const READABLE: Record<Endpoint, (body: any) => boolean> = {
  chat: (body) => Array.isArray(body.messages),
  responses: (body) => typeof body.input === 'string' || Array.isArray(body.input),
  embeddings: (body) => typeof body.model === 'string' && body.input !== undefined,
};

export class FakeOpenAIUpstream {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** How many requests the client abandoned before their answer ended. */
  aborted = 0;
  private defaultBehaviour: UpstreamBehaviour = { kind: 'ok' };
  private queued: UpstreamBehaviour[] = [];
  private chooser: ((body: any) => UpstreamBehaviour | undefined) | null = null;
  private closing = false;
  private abortWaiters: (() => void)[] = [];
  private heldRequests = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:PORT`; the SDK's baseURL is this + '/v1'. */
    readonly url: string,
  ) {}

  static async start(): Promise<FakeOpenAIUpstream> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeOpenAIUpstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (request, response) => void fake.handle(request, response));
    return fake;
  }

  /** How long an idle keep-alive connection stays open (Node's default is 5 s): for a benchmark on a busy machine. */
  keepIdleConnectionsFor(ms: number): void {
    this.server.keepAliveTimeout = ms;
  }

  /** The behaviour of every request that finds the queue empty. */
  setBehaviour(behaviour: UpstreamBehaviour): void {
    this.defaultBehaviour = behaviour;
  }

  /**
   * Picks each request's behaviour from its parsed body (after the queue, before the default): for
   * callers from several processes at once, whose order the queue cannot follow (sim/).
   */
  chooseBehaviour(chooser: ((body: any) => UpstreamBehaviour | undefined) | null): void {
    this.chooser = chooser;
  }

  /** Behaviours for the next requests, one each, before the default applies again. */
  queueBehaviours(...behaviours: UpstreamBehaviour[]): void {
    this.queued.push(...behaviours);
  }

  /** How many requests reached this fake (each upstream of a failover test counts its own). */
  get requestCount(): number {
    return this.requests.length;
  }

  get lastRequest(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  /** How many requests are being held open ('held') right now. */
  get held(): number {
    return this.heldRequests.size;
  }

  /** Answers every request held open so far; returns how many. */
  release(): number {
    const released = [...this.heldRequests];
    this.heldRequests.clear();
    for (const answer of released) answer();
    return released.length;
  }

  /** Back to answering 'ok' with nothing recorded (held requests are answered): for a suite's before.each. */
  reset(): void {
    this.release();
    this.requests.length = 0;
    this.aborted = 0;
    this.queued = [];
    this.chooser = null;
    this.defaultBehaviour = { kind: 'ok' };
  }

  /** Resolves once `count` requests in all were abandoned by the client (the close event comes a moment after the abort). */
  async waitForAborted(count = 1, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.aborted < count) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`expected ${count} aborted request(s) within ${timeoutMs} ms, saw ${this.aborted}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.abortWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ends every connection, hanging ones included, and stops listening. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const bodyText = await readBody(request);
    const parsed = parseJson(bodyText);
    const behaviour = this.queued.shift() ?? this.chooser?.(parsed) ?? this.defaultBehaviour;
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: parsed,
      behaviour,
      abortedByClient: false,
      sent: [],
    };
    this.requests.push(recorded);

    // Stops the streams' pauses when the connection goes, whoever closed it.
    const gone = new AbortController();
    let destroyedByFake = false;
    response.on('close', () => {
      gone.abort();
      if (response.writableFinished || destroyedByFake || this.closing) return;
      recorded.abortedByClient = true;
      this.aborted++;
      for (const wake of this.abortWaiters.splice(0)) wake();
    });

    const endpoint = request.method !== 'POST' ? null : ENDPOINTS[recorded.path] ?? null;
    if (endpoint === null) {
      return sendJson(response, 404, errorBody(`Unknown request URL: ${request.method} ${recorded.path}.`, 'invalid_request_error', 'unknown_url'), recorded);
    }
    const body = recorded.body;
    const readable = body !== null && READABLE[endpoint](body);
    if (!readable) return sendJson(response, 400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'), recorded);

    if (behaviour.kind === 'held') {
      await new Promise<void>((resolve) => {
        const answer = () => resolve();
        this.heldRequests.add(answer);
        gone.signal.addEventListener('abort', () => {
          this.heldRequests.delete(answer);
          resolve();
        });
      });
      if (gone.signal.aborted) return;
    }

    try {
      switch (behaviour.kind) {
        case 'partial-then-error': {
          response.writeHead(200, body.stream === true ? SSE_HEADERS : JSON_HEADERS);
          const partial =
            endpoint === 'chat'
              ? chatPartial(body, behaviour.chunks)
              : endpoint === 'embeddings'
                ? '{"object":"list","data":[{"obj'
                : body.stream === true
                  ? await responsesPartialFrames(body, behaviour.chunks)
                  : '{"id":"resp_cut","object":"resp';
          recorded.sent.push(partial);
          // Destroy only once the bytes are on the wire, so the client really sees N chunks first.
          await new Promise<void>((resolve) => response.write(partial, () => resolve()));
          await sleep(20);
          destroyedByFake = true;
          response.socket?.destroy();
          return;
        }
        case 'error': {
          const known = ERRORS[behaviour.status];
          const retryAfterSeconds = behaviour.retryAfterSeconds ?? (behaviour.status === 429 ? 1 : undefined);
          const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
          return sendJson(response, behaviour.status, errorBody(behaviour.message ?? known.message, known.type, known.code), recorded, headers);
        }
        case 'redirect':
          response.writeHead(307, { location: `${this.url}${request.url}`, 'content-length': '0' });
          response.end();
          return;
        case 'hang':
          return; // close() ends the connection
        case 'reset':
          destroyedByFake = true;
          request.socket.resetAndDestroy();
          return;
        case 'headers-then-reset':
          response.writeHead(200, SSE_HEADERS);
          response.flushHeaders();
          await sleep(20);
          destroyedByFake = true;
          response.socket?.resetAndDestroy();
          return;
        default:
          if (endpoint === 'embeddings') return await answerEmbeddings(behaviour, body, response, recorded);
          return await (endpoint === 'chat' ? answerChat : answerResponses)(behaviour, body, response, recorded, gone.signal);
      }
    } catch (error) {
      if (!gone.signal.aborted) throw error;
    }
  }
}

type Answering = Extract<UpstreamBehaviour, { kind: 'ok' | 'held' | 'no-usage' | 'slow-stream' }>;
type ChatBody = ChatInput & { model: string; stream?: boolean; stream_options?: { include_usage?: boolean } };

function chatHeader(body: ChatBody): CompletionHeader {
  return { id: newCompletionId(), createdSeconds: Math.floor(Date.now() / 1000), model: String(body.model) };
}

/** The role chunk and `chunks` content chunks of a stream, or the start of a JSON body: what a broken answer had sent. */
function chatPartial(body: ChatBody, chunks: number): string {
  const header = chatHeader(body);
  if (body.stream !== true) return `{"id":"${header.id}","object":"chat.completion","choi`;
  return [roleChunk(header), ...slowPieces(chunks).map((piece) => contentChunk(header, piece))].map(sseFrame).join('');
}

async function answerChat(behaviour: Answering, body: ChatBody, response: ServerResponse, recorded: RecordedRequest, gone: AbortSignal): Promise<void> {
  const header = chatHeader(body);
  if (behaviour.kind === 'slow-stream') {
    const pieces = slowPieces(behaviour.chunks);
    const usage = usageObject({ promptTokens: await countChatInputTokens(body), completionTokens: countTextTokens(pieces.join('')) });
    const frames = streamFrames(header, { choices: [{ pieces, finishReason: 'stop' }], usage: wantsUsageChunk(body) ? usage : null });
    return sendFrames(response, frames, behaviour.chunkDelayMs, gone, recorded);
  }
  const text = behaviour.text ?? FAKE_DEFAULT_TEXT;
  const reported = behaviour.kind === 'no-usage' ? undefined : behaviour.usage;
  const usage =
    behaviour.kind === 'no-usage' || reported === null
      ? null
      : usageObject({
          promptTokens: reported?.prompt_tokens ?? (await countChatInputTokens(body)),
          completionTokens: reported?.completion_tokens ?? countTextTokens(text),
          cachedTokens: reported?.cached_tokens ?? 0,
        });
  if (body.stream !== true) return sendJson(response, 200, chatCompletion(header, [{ text, finishReason: 'stop' }], usage), recorded);
  const frames = streamFrames(header, { choices: [{ pieces: splitTextByTokens(text, 2), finishReason: 'stop' }], usage: wantsUsageChunk(body) ? usage : null });
  return sendFrames(response, frames, behaviour.kind === 'ok' ? (behaviour.chunkDelayMs ?? 0) : 0, gone, recorded);
}

async function answerResponses(behaviour: Answering, body: ResponsesBody & { stream?: boolean }, response: ServerResponse, recorded: RecordedRequest, gone: AbortSignal): Promise<void> {
  const streaming = body.stream === true;
  if (behaviour.kind === 'slow-stream') {
    const pieces = slowPieces(behaviour.chunks);
    const answer = { text: pieces.join(''), pieces, usage: undefined, ending: 'completed' as const };
    if (!streaming) return sendJson(response, 200, await responsesJson(body, answer), recorded);
    return sendFrames(response, await responsesStreamFrames(body, answer), behaviour.chunkDelayMs, gone, recorded);
  }
  const text = behaviour.text ?? FAKE_DEFAULT_TEXT;
  const answer = {
    text,
    pieces: splitTextByTokens(text, 2),
    usage: behaviour.kind === 'no-usage' ? null : behaviour.usage,
    ending: behaviour.kind === 'ok' ? (behaviour.ending ?? 'completed') : 'completed',
  };
  if (!streaming) return sendJson(response, 200, await responsesJson(body, answer), recorded);
  return sendFrames(response, await responsesStreamFrames(body, answer), behaviour.kind === 'ok' ? (behaviour.chunkDelayMs ?? 0) : 0, gone, recorded);
}

type AnsweredEmbeddings = Extract<UpstreamBehaviour, { kind: 'ok' | 'held' | 'no-usage' | 'slow-stream' }>;

/** `POST /v1/embeddings`: a vector per input, usage as scripted (or counted as the gateway counts). */
async function answerEmbeddings(behaviour: AnsweredEmbeddings, body: any, response: ServerResponse, recorded: RecordedRequest): Promise<void> {
  let input: EmbeddingInput;
  try {
    input = checkEmbeddingInput(body.input);
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    return sendJson(response, 400, errorBody(error.message, 'invalid_request_error', null, error.param), recorded);
  }
  const dimensions = body.dimensions ?? embeddingDimensions(body.model);
  const vectors = input.items.map((item) => hashedVector(body.model, item, dimensions));
  const reported = behaviour.kind === 'ok' ? behaviour.usage?.prompt_tokens : undefined;
  const answer = embeddingResponse(body.model, vectors, body.encoding_format ?? 'float', reported ?? (await countEmbeddingInputTokens(input)));
  if (behaviour.kind === 'no-usage') delete (answer as { usage?: unknown }).usage;
  sendJson(response, 200, answer, recorded);
}

export function startFakeOpenAIUpstream(): Promise<FakeOpenAIUpstream> {
  return FakeOpenAIUpstream.start();
}

/** `http://127.0.0.1:PORT` of a port that was just free and is closed again: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sendJson(response: ServerResponse, status: number, value: object | OpenAIErrorBody, recorded: RecordedRequest, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  recorded.sent.push(text);
  response.writeHead(status, { ...JSON_HEADERS, 'x-request-id': `req_fake_${Date.now()}`, ...headers });
  response.end(text);
}

/** Writes the frames one by one, pausing between them; stops quietly when the connection goes. */
async function sendFrames(response: ServerResponse, frames: readonly string[], chunkDelayMs: number, gone: AbortSignal, recorded: RecordedRequest): Promise<void> {
  response.writeHead(200, { ...SSE_HEADERS, 'x-request-id': `req_fake_${Date.now()}` });
  response.flushHeaders();
  for (const [index, frame] of frames.entries()) {
    if (index > 0 && chunkDelayMs > 0) await sleep(chunkDelayMs, undefined, { signal: gone });
    if (gone.aborted) return;
    recorded.sent.push(frame);
    response.write(frame);
  }
  response.end();
}
