// The upstream: the official openai SDK pointed at OpenAI, any compatible server, or the demo model; and what its errors mean.
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { createDemoFetch } from './demo-model.ts';
import { UpstreamFailure } from './errors.ts';
import type { ImageSizer } from './image-source.ts';

export interface UpstreamOptions {
  /** null: the built-in demo model answers (nothing leaves the server). */
  baseUrl: string | null;
  /** null: no key is sent (a local server), or the demo model. */
  apiKey: string | null;
  /** Extra headers for every request (UPSTREAMS_FILE's `headers`). */
  headers?: Readonly<Record<string, string>>;
  /** How long to wait for the response headers. The SDK's own timeout stops there; the gateway keeps an overall deadline too. */
  timeoutMs: number;
  /** How the demo model sizes prompts' images, as the hold does (by default: public URLs, 5 s). */
  images?: ImageSizer;
}

export function createUpstreamClient(options: UpstreamOptions): OpenAI {
  const demo = options.baseUrl === null;
  return new OpenAI({
    apiKey: options.apiKey ?? 'none',
    // Given explicitly, so the SDK never reads OPENAI_BASE_URL itself behind the config's back.
    baseURL: demo ? 'http://demo.invalid/v1' : options.baseUrl,
    // A retry would run a second upstream call against one hold, and the caller's own retry logic is theirs
    // (failing over to another upstream is the gateway's, failover.ts).
    maxRetries: 0,
    timeout: options.timeoutMs,
    // A keyless upstream gets no Authorization header at all (null removes the SDK's own).
    defaultHeaders: { ...(options.headers ?? {}), ...(options.apiKey === null && !demo ? { Authorization: null } : {}) },
    // A redirect is not followed: the operator's key and the user's prompt go to the base URL the
    // operator set and nowhere else, and a 3xx fails the attempt like an unreachable upstream (the
    // next one is tried: failover.ts). It also spares fetch a copy of each request's body, which
    // following redirects needs (undici clones the request unless redirects are errors).
    fetchOptions: { redirect: 'error' },
    ...(demo ? { fetch: createDemoFetch(options.images ? { images: options.images } : {}) } : {}),
  });
}

/** Hides anything that looks like an API key, and the operator's upstream keys themselves, from text passed on to callers. */
export function redactSecrets(text: string, operatorKeys: readonly string[]): string {
  let redacted = text;
  for (const key of operatorKeys) redacted = redacted.split(key).join('[redacted]');
  redacted = redacted.replace(/\bsk-[A-Za-z0-9_-]{6,}/g, '[redacted]').replace(/\btt_[A-Za-z0-9]{6,}/g, '[redacted]');
  return redacted;
}

function retryAfterSeconds(headers: Headers | undefined): number | null {
  const value = headers?.get('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const dateMs = Date.parse(value);
  return Number.isNaN(dateMs) ? null : Math.max(0, Math.ceil((dateMs - Date.now()) / 1000));
}

/**
 * What an error thrown by the SDK (or by reading its stream, or by a surface) means for the caller. A connection
 * broken mid-body surfaces as undici's plain `TypeError: terminated`, not as an SDK error, and an
 * error event inside a stream as an APIError without a status: both are `broken`.
 */
export function classifyUpstreamError(error: unknown, operatorKeys: readonly string[]): UpstreamFailure {
  // Already read as a failure (a surface's in-stream error event, or a failed answer).
  if (error instanceof UpstreamFailure) return error;
  if (error instanceof APIConnectionTimeoutError) return new UpstreamFailure('timeout');
  if (error instanceof APIConnectionError) return new UpstreamFailure('unreachable');
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    if (status === 401 || status === 403) return new UpstreamFailure('auth', status);
    if (status === 429) return new UpstreamFailure('rate_limited', status, null, retryAfterSeconds(error.headers) ?? 1);
    if (status === 400 || status === 404 || status === 422) {
      const body = (error.error ?? {}) as Record<string, unknown>;
      const text = (value: unknown) => (typeof value === 'string' ? redactSecrets(value, operatorKeys) : null);
      return new UpstreamFailure('rejected', status, {
        message: text(body.message) ?? `The upstream refused the request (${status}).`,
        type: text(body.type),
        code: text(body.code),
        param: text(body.param),
      });
    }
    return new UpstreamFailure('server', status);
  }
  return new UpstreamFailure('broken');
}
