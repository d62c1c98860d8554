// OpenAI's embeddings wire format in one place: the models' vector sizes, a vector as floats or
// base64, the response, and a deterministic vector for a text (the demo model's and the test fake's).
import { createHash } from 'node:crypto';
import type { CreateEmbeddingResponse, Embedding } from 'openai/resources/embeddings';
import type { EmbeddingItem } from './embedding-input.ts';

/** Each embedding model's full vector size: `dimensions` may ask for fewer, never more. */
export const EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1_536,
  'text-embedding-3-large': 3_072,
};

/** The size of a model's vectors; a model not listed (added to the rate card by an operator) gets the largest known. */
export function embeddingDimensions(model: string): number {
  return EMBEDDING_DIMENSIONS[model] ?? Math.max(...Object.values(EMBEDDING_DIMENSIONS));
}

export type EncodingFormat = 'float' | 'base64';

/** A vector as the wire carries it: a list of floats, or its float32 little-endian bytes in base64. */
export function encodeVector(vector: Float32Array, format: EncodingFormat): number[] | string {
  if (format === 'float') return Array.from(vector);
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

/** The answer to an embeddings request, one vector per input in order. */
export function embeddingResponse(model: string, vectors: readonly Float32Array[], format: EncodingFormat, promptTokens: number): CreateEmbeddingResponse {
  const data = vectors.map((vector, index): Embedding => ({ object: 'embedding', index, embedding: encodeVector(vector, format) as number[] }));
  return { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}

/**
 * A unit vector of `dimensions` floats that depends only on the model and the input: a seed from
 * the SHA-256 of both drives xorshift32, so a 3,072-float vector costs microseconds, and a shorter
 * vector is the start of the longer one, normalised again (as `dimensions` shortens OpenAI's own).
 */
export function hashedVector(model: string, item: EmbeddingItem, dimensions: number): Float32Array {
  const hash = createHash('sha256').update(model).update('\0');
  if (typeof item === 'string') hash.update('text\0').update(item);
  else hash.update('ids\0').update(Uint32Array.from(item));
  // xorshift32 must not start at 0.
  let state = hash.digest().readUInt32LE(0) || 1;
  const values = new Float64Array(dimensions);
  let squares = 0;
  for (let index = 0; index < dimensions; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const value = state / 0x1_0000_0000 - 0.5;
    values[index] = value;
    squares += value * value;
  }
  const length = Math.sqrt(squares) || 1;
  return Float32Array.from(values, (value) => value / length);
}
