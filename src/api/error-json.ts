// An error description as OpenAI's JSON error body, so the official SDKs raise it as an APIError with its status and message.
import type { Context } from 'hono';
import type { ErrorDescription } from '../errors/descriptions.ts';
import { errorBody, type OpenAIErrorBody } from '../gateway/openai-wire.ts';

/** The body alone: an answer's, or a stream's last frame. */
export function errorBodyOf(description: ErrorDescription): OpenAIErrorBody {
  const { message, type, code, param, extra } = description;
  return errorBody(message, type, code, param, extra);
}

export function errorJson(c: Context, description: ErrorDescription): Response {
  // For the request metrics' refusal reasons (src/metrics/routes.ts).
  c.set('errorCode', description.code);
  return c.json(errorBodyOf(description), description.status, description.headers);
}
