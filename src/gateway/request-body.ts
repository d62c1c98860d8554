// A request body checked before any other work, whatever its kind: a JSON object, nested at most
// 64 levels (measured without recursion), then its schema, whose first complaint is the 400.
import type { z } from 'zod';
import { InvalidRequestError } from './errors.ts';
import { fieldNestedTooDeep } from './json-depth.ts';
import { describeIssue, requestErrorFrom } from './schema-errors.ts';

/** Arrays and objects nest at most this deep, the body itself being level 1: far past any real tool schema. */
export const MOST_NESTING_LEVELS = 64;

/** The body as `schema` reads it; throws InvalidRequestError naming the field at fault. */
export function parseRequestBody<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequestError('The request body must be a JSON object.', null);
  // Before any other work: whatever else reads the body may recurse.
  const tooDeep = fieldNestedTooDeep(value as Record<string, unknown>, MOST_NESTING_LEVELS);
  if (tooDeep !== null) {
    throw new InvalidRequestError(`'${tooDeep}' nests arrays or objects more than ${MOST_NESTING_LEVELS} levels deep.`, tooDeep, 'nesting_too_deep');
  }
  const parsed = schema.safeParse(value, { error: describeIssue });
  if (!parsed.success) throw requestErrorFrom(parsed.error.issues);
  return parsed.data;
}
