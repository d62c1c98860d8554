// How large a request body may be, by route: the limits, their words, the forms that take prompts,
// and the middleware that applies them.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** Sign-in, settings and every other form: small fields only. */
export const FORM_BODY_LIMIT_BYTES = 64 * 1024;
/** /v1: a chat completion with a long conversation. */
export const API_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The forms that carry a prompt (the playground and the cost estimator) take what the API takes,
 * so a prompt that works through the API also works there. They post multipart/form-data, whose
 * text is sent as is (a URL-encoded form can triple it), so the same limit means the same prompt.
 */
export const PROMPT_FORM_PATHS: ReadonlySet<string> = new Set(['/playground', '/credits/estimate']);
export const PROMPT_FORM_BODY_LIMIT_BYTES = API_BODY_LIMIT_BYTES;

/** "4 MB", "64 KB": the limits are whole numbers of either. */
export function bytesText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
}

/**
 * A body past its limit is answered before it is read, while the client may still be sending it.
 * The connection is closed after the answer instead of being kept for the next request: the server
 * would otherwise discard the rest for at most 500 ms (@hono/node-server) and then cut the
 * connection, under whatever request the client had sent on it next.
 */
export function closeAfterTooLarge(c: Context): void {
  c.header('Connection', 'close');
}

/**
 * Past a form's (or a webhook's) limit: one line naming it. htmx swaps 413s (for the prompt forms'
 * own answers), so here it is told not to: this line would replace the form being filled in.
 */
export const tooLargeText = (limitBytes: number) => (c: Context) => {
  closeAfterTooLarge(c);
  if (c.req.header('HX-Request')) c.header('HX-Reswap', 'none');
  return c.text(`The request body is too large (at most ${bytesText(limitBytes)}).`, 413);
};

/**
 * hono's bodyLimit, deciding by the Content-Length header when there is one (Node's parser reads no
 * more than it says) without touching the request's body stream; a body without one (chunked) is
 * read through hono's, which counts the bytes as they come. hono's own looks at `c.req.raw.body`
 * first, which makes @hono/node-server build a whole web Request and stream for every request, and
 * its `json()` and `text()` then read through them instead of from Node's request directly (about
 * 0.05–0.1 ms of a metered call: docs/architecture.md, Where a metered call's time goes).
 */
export function limitBody(options: { maxSize: number; onError: (c: Context) => Response | Promise<Response> }): MiddlewareHandler {
  const counted = bodyLimit(options);
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined && /^\d{1,15}$/.test(length)) {
      return Number(length) > options.maxSize ? options.onError(c) : next();
    }
    return counted(c, next);
  };
}
