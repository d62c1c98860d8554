// How large a request body may be, by route: the limits, their words, and the forms that take prompts.
import type { Context } from 'hono';

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
