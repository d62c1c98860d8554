// Validates an embeddings request body before anything is reserved, and keeps only what is
// forwarded upstream: the model, the input (embedding-input.ts), encoding_format, dimensions, user.
import { z } from 'zod';
import { checkEmbeddingInput, type EmbeddingInput } from './embedding-input.ts';
import { embeddingDimensions, type EncodingFormat } from './embedding-wire.ts';
import { InvalidRequestError } from './errors.ts';
import { checkedBody } from './request-body.ts';
import { identifier, modelFieldLike, wholeFrom } from './request-fields.ts';
import type { MeteredRequest } from './surface.ts';

/** The parts of the body the gateway acts on: an embedding writes no output and never streams. */
export interface EmbeddingRequest extends MeteredRequest {
  input: EmbeddingInput;
  /** The fields sent upstream, checked, without nulls; encoding_format always given (see below). */
  forward: { model: string; input: EmbeddingInput['original']; encoding_format: EncodingFormat; dimensions?: number; user?: string };
}

/**
 * Every field tokentab forwards. `input` is checked by hand (embedding-input.ts): it can hold two
 * million token ids, which it reads once without building an issue per id. An explicit null means
 * "not given".
 */
const embeddingRequestSchema = z.strictObject({
  model: modelFieldLike('text-embedding-3-small'),
  input: z.unknown(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: wholeFrom(1).nullish(),
  user: identifier.nullish(),
});

/** Checks the body's shape; the model's presence on the rate card (as an embedding model) is checked by the caller. */
export function parseEmbeddingRequest(value: unknown): EmbeddingRequest {
  const body = checkedBody(value, embeddingRequestSchema);
  const input = checkEmbeddingInput(body.input);
  const most = embeddingDimensions(body.model);
  if (body.dimensions != null && body.dimensions > most) {
    throw new InvalidRequestError(`'dimensions' must be a whole number from 1 to ${most}: ${body.model}'s vectors have ${most}.`, 'dimensions');
  }
  return {
    model: body.model,
    stream: false,
    requestedOutputTokens: 0,
    limitField: null,
    choices: 1,
    input,
    forward: {
      model: body.model,
      input: input.original,
      // The API's default, said explicitly: without it the SDK asks for base64 and hands back
      // Float32Arrays, which would not go back to the client as the JSON it asked for.
      encoding_format: body.encoding_format ?? 'float',
      ...(body.dimensions != null ? { dimensions: body.dimensions } : {}),
      ...(body.user != null ? { user: body.user } : {}),
    },
  };
}
