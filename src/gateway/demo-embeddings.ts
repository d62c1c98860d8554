// The demo model's embeddings: a deterministic unit vector per input (from a hash of the model and
// the input), in the format and size asked for, and usage counted as the gateway's hold counts it.
import { defaultEmbeddingRates } from '../seed.ts';
import { checkEmbeddingInput, countEmbeddingInputTokens } from './embedding-input.ts';
import { embeddingDimensions, embeddingResponse, hashedVector, type EncodingFormat } from './embedding-wire.ts';
import { InvalidRequestError } from './errors.ts';
import { errorBody, type OpenAIErrorBody } from './openai-wire.ts';

/** The embedding models the demo answers: those of the default rate card. */
export const DEMO_EMBEDDING_MODELS: readonly string[] = defaultEmbeddingRates.map((rate) => rate.model);

/** A status and an OpenAI-shaped body, for demo-model.ts to send. */
export interface DemoAnswer {
  status: number;
  body: unknown;
}

function invalid(message: string, param: string | null): DemoAnswer {
  return { status: 400, body: errorBody(message, 'invalid_request_error', null, param) };
}

/**
 * Answers `POST …/embeddings` as OpenAI does: the checks its answer depends on, then one vector per
 * input. Its usage is the count the gateway's hold was made from (the same function), so it never
 * exceeds the hold.
 */
export async function demoEmbeddings(bodyText: string): Promise<DemoAnswer> {
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid('The request body must be a JSON object.', null);
    body = parsed as Record<string, unknown>;
  } catch {
    return invalid('We could not parse the JSON body of your request.', null);
  }
  const model = body.model;
  if (typeof model !== 'string' || model === '') return invalid('You must provide a model parameter.', 'model');
  if (!DEMO_EMBEDDING_MODELS.includes(model)) {
    return { status: 404, body: errorBody(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found') satisfies OpenAIErrorBody };
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') return invalid("'encoding_format' must be 'float' or 'base64'.", 'encoding_format');
  const most = embeddingDimensions(model);
  const dimensions = body.dimensions ?? most;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > most) {
    return invalid(`'dimensions' must be a whole number from 1 to ${most}.`, 'dimensions');
  }
  try {
    const input = checkEmbeddingInput(body.input);
    const promptTokens = await countEmbeddingInputTokens(input);
    const vectors = input.items.map((item) => hashedVector(model, item, dimensions));
    return { status: 200, body: embeddingResponse(model, vectors, format as EncodingFormat, promptTokens) };
  } catch (error) {
    if (error instanceof InvalidRequestError) return invalid(error.message, error.param);
    throw error;
  }
}
