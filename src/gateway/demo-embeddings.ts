// The demo model's embeddings (POST …/embeddings): a deterministic unit vector per input (from a hash
// of the model and the input), in the format and size asked for, and usage counted as the gateway's hold counts it.
import { defaultEmbeddingRates } from '../seed.ts';
import type { DemoEndpoint } from './demo-answer.ts';
import { checkEmbeddingInput, countEmbeddingInputTokens } from './embedding-input.ts';
import { embeddingDimensions, embeddingResponse, hashedVector, type EncodingFormat } from './embedding-wire.ts';

/**
 * Answers as OpenAI does: the checks its answer depends on, then one vector per input. Its usage is
 * the count the gateway's hold was made from (the same function), so it never exceeds the hold.
 */
export const demoEmbeddings: DemoEndpoint = {
  path: '/embeddings',
  models: defaultEmbeddingRates.map((rate) => rate.model),
  check(fields) {
    const format = fields.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') return { invalid: "'encoding_format' must be 'float' or 'base64'.", param: 'encoding_format' };
    const most = embeddingDimensions(String(fields.model));
    const dimensions = fields.dimensions ?? most;
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > most) {
      return { invalid: `'dimensions' must be a whole number from 1 to ${most}.`, param: 'dimensions' };
    }
    return null;
  },
  async answer(fields) {
    const model = String(fields.model);
    const dimensions = (fields.dimensions as number | null | undefined) ?? embeddingDimensions(model);
    // The input is read here, once: a bad one throws InvalidRequestError, a 400 naming the item.
    const input = checkEmbeddingInput(fields.input);
    const promptTokens = await countEmbeddingInputTokens(input);
    const vectors = input.items.map((item) => hashedVector(model, item, dimensions));
    return { json: embeddingResponse(model, vectors, (fields.encoding_format ?? 'float') as EncodingFormat, promptTokens) };
  },
};
