// A metered request's JSON body checked before any work: an object, its nesting bounded (measured
// without recursion), then its fields against the kind's schema; the first complaint is a 400 naming the field.
import type { z } from 'zod';
import { InvalidRequestError } from './errors.ts';
import { fieldNestedTooDeep } from './json-depth.ts';
import { describeIssue, requestErrorFrom } from './schema-errors.ts';

/** Arrays and objects nest at most this deep, the body itself being level 1: far past any real tool schema. */
export const MOST_NESTING_LEVELS = 64;

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The checked value without its null or absent fields: an explicit null means "not given". */
export function withoutNulls<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null && field !== undefined)) as T;
}

/** The body as `schema` accepts it; throws InvalidRequestError naming the first field at fault. */
export function checkedBody<Schema extends z.ZodType>(value: unknown, schema: Schema): z.output<Schema> {
  if (!isObject(value)) throw new InvalidRequestError('The request body must be a JSON object.', null);
  // Before any other work: whatever else reads the body may recurse.
  const tooDeep = fieldNestedTooDeep(value, MOST_NESTING_LEVELS);
  if (tooDeep !== null) {
    throw new InvalidRequestError(`'${tooDeep}' nests arrays or objects more than ${MOST_NESTING_LEVELS} levels deep.`, tooDeep, 'nesting_too_deep');
  }
  const parsed = schema.safeParse(value, { error: describeIssue });
  if (!parsed.success) throw requestErrorFrom(parsed.error.issues);
  return parsed.data;
}
