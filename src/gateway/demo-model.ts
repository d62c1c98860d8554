// The built-in demo model: a fetch function that answers chat completions and embeddings the way OpenAI does, offline and deterministic.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock.ts';
import { afterPollingIO } from '../event-loop.ts';
import { defaultRates } from '../seed.ts';
import { demoEmbeddings } from './demo-embeddings.ts';
import {
  JSON_HEADERS,
  SSE_HEADERS,
  chatCompletion,
  errorBody,
  newCompletionId,
  streamFrames,
  usageObject,
  wantsUsageChunk,
  type CompletionHeader,
  type FinishReason,
  type OpenAIErrorBody,
} from './openai-wire.ts';
import { countChatInputTokens, countTextTokens, splitTextByTokens, truncateTextToTokens, type ChatInput, type ChatInputMessage } from './tokens.ts';

/** The models the demo answers: those of the default rate card. */
export const DEMO_MODELS: readonly string[] = defaultRates.map((rate) => rate.model);

/** The shape of the openai SDK's `fetch` option (and of the global fetch). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface DemoModelOptions {
  /** A pause between stream chunks, so a test (or a person) can watch the stream arrive. */
  chunkDelayMs?: number;
  /** How many tokens each content chunk carries. */
  tokensPerChunk?: number;
  clock?: Clock;
}

/** How much of the prompt the reply quotes back, in characters. */
const QUOTE_LIMIT_CHARS = 60;
const MOST_CHOICES = 128;

interface DemoRequest extends ChatInput {
  model: string;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
}

/**
 * A fetch function for `new OpenAI({ fetch })` that answers `POST …/chat/completions` and
 * `POST …/embeddings` (demo-embeddings.ts) itself, so demo mode runs the real SDK code path: JSON
 * or SSE, usage counted with the real tokenizer, OpenAI-shaped errors, and a stream that stops when
 * the request's signal aborts.
 */
export function createDemoFetch(options: DemoModelOptions = {}): FetchFunction {
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const tokensPerChunk = options.tokensPerChunk ?? 3;
  const clock = options.clock ?? systemClock;

  return async function demoFetch(input, init) {
    // A turn of the event loop between the client's work and the model's, as a network gives:
    // the SDK's JSON of a 4 MB prompt and the parse below would otherwise hold the loop together.
    await afterPollingIO();
    const request = await readRequest(input, init);
    if (request.signal?.aborted) throw abortError(request.signal);
    if (request.method === 'POST' && request.url.pathname.endsWith('/embeddings')) {
      const answer = await demoEmbeddings(request.bodyText);
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: JSON_HEADERS });
    }
    if (request.method !== 'POST' || !request.url.pathname.endsWith('/chat/completions')) {
      return errorResponse(404, errorBody(`Unknown request URL: ${request.method} ${request.url.pathname}.`, 'invalid_request_error', 'unknown_url'));
    }
    const parsed = parseDemoRequest(request.bodyText);
    if (parsed instanceof Response) return parsed;
    const body = parsed;

    const fullText = demoReplyText(body.model, body.messages);
    const limit = body.max_completion_tokens ?? body.max_tokens ?? null;
    const cut = limit !== null && countTextTokens(fullText) > limit;
    const text = cut ? truncateTextToTokens(fullText, limit) : fullText;
    const finishReason: FinishReason = cut ? 'length' : 'stop';
    const choiceCount = body.n ?? 1;
    const usage = usageObject({
      promptTokens: await countChatInputTokens(body),
      completionTokens: countTextTokens(text) * choiceCount,
    });
    const header: CompletionHeader = { id: newCompletionId('demo'), createdSeconds: Math.floor(clock.now() / 1000), model: body.model };
    const headers = { 'x-request-id': `req_demo_${randomBytes(8).toString('hex')}` };

    if (body.stream !== true) {
      const choices = Array.from({ length: choiceCount }, () => ({ text, finishReason }));
      return new Response(JSON.stringify(chatCompletion(header, choices, usage)), { status: 200, headers: { ...JSON_HEADERS, ...headers } });
    }
    const pieces = splitTextByTokens(text, tokensPerChunk);
    const frames = streamFrames(header, {
      choices: Array.from({ length: choiceCount }, () => ({ pieces, finishReason })),
      usage: wantsUsageChunk(body) ? usage : null,
    });
    return new Response(framesStream(frames, request.signal, chunkDelayMs), { status: 200, headers: { ...SSE_HEADERS, ...headers } });
  };
}

/** The demo model with no delay between chunks. */
export const demoFetch: FetchFunction = createDemoFetch();

/**
 * The start of a text, enough to quote it: its first QUOTE_LIMIT_CHARS + 1 non-space characters
 * (whole code points) with the whitespace around them, so a 4 MB prompt is not copied to be quoted.
 */
const QUOTABLE_START = new RegExp(`^\\s*(?:\\S\\s*){0,${QUOTE_LIMIT_CHARS + 1}}`, 'u');

/** The reply for a prompt: the same prompt always gets the same words, whichever process answers. */
export function demoReplyText(model: string, messages: readonly ChatInputMessage[]): string {
  const start = QUOTABLE_START.exec(lastUserText(messages))?.[0] ?? '';
  const said = start.replace(/\s+/g, ' ').trim();
  const characters = Array.from(said); // whole code points, so an emoji is never cut in half
  const quote = characters.length > QUOTE_LIMIT_CHARS ? `${characters.slice(0, QUOTE_LIMIT_CHARS).join('')}…` : said;
  const opening = quote ? `you said “${quote}”.` : 'your message had no text.';
  return (
    `Demo reply from ${model}: ${opening} ` +
    'This answer comes from the built-in demo model, so nothing left this server. ' +
    'Its tokens are counted with the same tokenizer as a real model’s, and credits are charged for them the same way.'
  );
}

function lastUserText(messages: readonly ChatInputMessage[]): string {
  const message = [...messages].reverse().find((each) => each.role === 'user');
  if (!message || message.content == null) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => part.text ?? '').join(' ');
}

interface IncomingRequest {
  url: URL;
  method: string;
  bodyText: string;
  signal: AbortSignal | undefined;
}

async function readRequest(input: string | URL | Request, init: RequestInit | undefined): Promise<IncomingRequest> {
  if (input instanceof Request) {
    const request = init ? new Request(input, init) : input;
    return { url: new URL(request.url), method: request.method.toUpperCase(), bodyText: await request.text(), signal: request.signal };
  }
  const body = init?.body;
  const bodyText = body == null ? '' : typeof body === 'string' ? body : await new Response(body).text();
  return { url: new URL(String(input)), method: (init?.method ?? 'GET').toUpperCase(), bodyText, signal: init?.signal ?? undefined };
}

function errorResponse(status: number, body: OpenAIErrorBody): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

function invalid(message: string, param: string | null): Response {
  return errorResponse(400, errorBody(message, 'invalid_request_error', null, param));
}

function isPositiveWhole(value: unknown, most = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= most;
}

/** The checks OpenAI makes that the demo's answer depends on, with OpenAI's statuses and `param`s. */
function parseDemoRequest(bodyText: string): DemoRequest | Response {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return invalid('We could not parse the JSON body of your request.', null);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('The request body must be a JSON object.', null);
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') return invalid('You must provide a model parameter.', 'model');
  const messages = fields.messages;
  if (!Array.isArray(messages) || messages.length === 0) return invalid("'messages' must be a non-empty array.", 'messages');
  for (const [index, message] of messages.entries()) {
    const valid =
      typeof message === 'object' &&
      message !== null &&
      typeof message.role === 'string' &&
      (message.content == null ||
        typeof message.content === 'string' ||
        (Array.isArray(message.content) && message.content.every((part: unknown) => typeof part === 'object' && part !== null)));
    if (!valid) return invalid(`Invalid message at messages[${index}].`, `messages[${index}]`);
  }
  if (!DEMO_MODELS.includes(fields.model)) {
    return errorResponse(404, errorBody(`The model \`${fields.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'));
  }
  for (const name of ['max_tokens', 'max_completion_tokens'] as const) {
    if (fields[name] != null && !isPositiveWhole(fields[name])) return invalid(`Invalid '${name}': expected an integer ≥ 1.`, name);
  }
  if (fields.n != null && !isPositiveWhole(fields.n, MOST_CHOICES)) return invalid(`Invalid 'n': expected an integer from 1 to ${MOST_CHOICES}.`, 'n');
  if (fields.stream_options != null && fields.stream !== true) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  return fields as unknown as DemoRequest;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * The SSE frames as a response body produced one frame at a time, as the reader pulls: when the
 * signal aborts, production stops and the body errors with an AbortError, as fetch's body does.
 */
function framesStream(frames: readonly string[], signal: AbortSignal | undefined, chunkDelayMs: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  let stopped = false;
  let forgetSignal = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (!signal) return;
      const onAbort = () => {
        if (stopped) return;
        stopped = true;
        controller.error(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      forgetSignal = () => signal.removeEventListener('abort', onAbort);
    },
    async pull(controller) {
      if (next > 0 && chunkDelayMs > 0) {
        try {
          await sleep(chunkDelayMs, undefined, signal ? { signal } : {});
        } catch {
          return; // aborted while waiting: the abort listener has already errored the body
        }
      }
      if (stopped) return;
      controller.enqueue(encoder.encode(frames[next++] ?? ''));
      if (next === frames.length) {
        stopped = true;
        forgetSignal();
        controller.close();
      }
    },
    cancel() {
      stopped = true;
      forgetSignal();
    },
  });
}
