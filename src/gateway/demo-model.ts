// The built-in demo model: a fetch function that answers chat completions, Responses and embeddings the way OpenAI does, offline and deterministic.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock.ts';
import { afterPollingIO } from '../event-loop.ts';
import type { DemoAnswer, DemoAnswerOptions, DemoEndpoint } from './demo-answer.ts';
import { demoChat } from './demo-chat.ts';
import { demoEmbeddings } from './demo-embeddings.ts';
import { demoResponses } from './demo-responses.ts';
import { InvalidRequestError } from './errors.ts';
import { createImageSizer, type ImageSizer } from './image-source.ts';
import { JSON_HEADERS, SSE_HEADERS, errorBody, type OpenAIErrorBody } from './openai-wire.ts';

export { demoReplyText } from './demo-reply.ts';

/** The shape of the openai SDK's `fetch` option (and of the global fetch). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface DemoModelOptions {
  /** A pause between stream chunks, so a test (or a person) can watch the stream arrive. */
  chunkDelayMs?: number;
  /** How many tokens each content chunk carries. */
  tokensPerChunk?: number;
  clock?: Clock;
  /** How prompts' images are sized for the reported usage: as the gateway's hold sizes them (by default: public URLs only, 5 s each). */
  images?: ImageSizer;
}

/** The configuration's defaults (IMAGE_FETCH_TIMEOUT_SECONDS, IMAGE_FETCH_ALLOW_PRIVATE), for a demo built without the server's sizer. */
const DEFAULT_IMAGE_FETCH = { allowPrivate: false, timeoutMs: 5_000 };

/** What the demo answers, by the path's end. */
const ENDPOINTS: readonly DemoEndpoint[] = [demoChat, demoResponses, demoEmbeddings];

/**
 * A fetch function for `new OpenAI({ fetch })` that answers `POST …/chat/completions`,
 * `POST …/responses` and `POST …/embeddings` itself, so demo mode runs the real SDK code path: JSON
 * or SSE, usage counted with the real tokenizer, OpenAI-shaped errors, and a stream that stops when
 * the request's signal aborts.
 */
export function createDemoFetch(options: DemoModelOptions = {}): FetchFunction {
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const answerOptions: DemoAnswerOptions = {
    clock: options.clock ?? systemClock,
    tokensPerChunk: options.tokensPerChunk ?? 3,
    images: options.images ?? createImageSizer(DEFAULT_IMAGE_FETCH),
  };

  return async function demoFetch(input, init) {
    // A turn of the event loop between the client's work and the model's, as a network gives:
    // the SDK's JSON of a 4 MB prompt and the parse below would otherwise hold the loop together.
    await afterPollingIO();
    const request = await readRequest(input, init);
    if (request.signal?.aborted) throw abortError(request.signal);
    const endpoint = request.method === 'POST' ? ENDPOINTS.find((each) => request.url.pathname.endsWith(each.path)) : undefined;
    if (!endpoint) {
      return errorResponse(404, errorBody(`Unknown request URL: ${request.method} ${request.url.pathname}.`, 'invalid_request_error', 'unknown_url'));
    }
    const fields = parseDemoBody(request.bodyText, endpoint);
    if (fields instanceof Response) return fields;

    let answer: DemoAnswer;
    try {
      answer = await endpoint.answer(fields, { ...answerOptions, signal: request.signal ?? new AbortController().signal });
    } catch (error) {
      if (error instanceof InvalidRequestError) return invalid(error.message, error.param);
      throw error;
    }
    const headers = { 'x-request-id': `req_demo_${randomBytes(8).toString('hex')}` };
    if ('json' in answer) return new Response(JSON.stringify(answer.json), { status: 200, headers: { ...JSON_HEADERS, ...headers } });
    return new Response(framesStream(answer.frames, request.signal, chunkDelayMs), { status: 200, headers: { ...SSE_HEADERS, ...headers } });
  };
}

/** The demo model with no delay between chunks. */
export const demoFetch: FetchFunction = createDemoFetch();

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

/** The body as the endpoint accepts it, or OpenAI's 400 naming the parameter (404 for a model it does not know). */
function parseDemoBody(bodyText: string, endpoint: DemoEndpoint): Record<string, unknown> | Response {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return invalid('We could not parse the JSON body of your request.', null);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('The request body must be a JSON object.', null);
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') return invalid('You must provide a model parameter.', 'model');
  const refusal = endpoint.check(fields);
  if (refusal) return invalid(refusal.invalid, refusal.param);
  if (!endpoint.models.includes(fields.model)) {
    return errorResponse(404, errorBody(`The model \`${fields.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'));
  }
  return fields;
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
