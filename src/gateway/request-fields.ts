// The checks every metered request body shares (chat completions, Responses, embeddings): bounds, number and
// identifier fields, refused values, and the fields with no effect on the price, each with its words.
import { z } from 'zod';

/** Content parts, tool calls or annotations in one message. */
export const MOST_LIST_ITEMS = 2_048;
/** OpenAI's own bounds where it documents them (128 tools, 16 metadata pairs). */
export const MOST_TOOLS = 128;
export const MOST_METADATA_PAIRS = 16;
/** user, safety_identifier, prompt_cache_key and tool call ids: identifiers, never rendered to the model. */
export const MOST_IDENTIFIER_CHARS = 256;

export type RefusalCode = 'unsupported_parameter' | 'unsupported_content';

/**
 * A value that is refused whatever it is, with an error code saying why: what the hold can't count
 * or price yet. Absent or null means "not given", as for every field.
 */
export function refused(predicate: string, code: RefusalCode) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value !== null) ctx.addIssue({ code: 'custom', message: predicate, params: { code } });
    })
    .optional();
}

/** An object whose `type` names something the hold can't count yet: refused with `code`, saying what `type` it was. */
export function refusedType(type: string, predicate: string, code: RefusalCode) {
  return z.looseObject({ type: z.literal(type) }).superRefine((_, ctx) => {
    ctx.addIssue({ code: 'custom', message: predicate, params: { code } });
  });
}

export const wholeFrom = (least: number, most?: number) => {
  const predicate = `must be a whole number from ${least}${most === undefined ? '' : ` to ${most}`}`;
  const number = z.int({ error: predicate }).min(least, { error: predicate });
  return most === undefined ? number : number.max(most, { error: predicate });
};
export const numberFrom = (least: number, most: number) => {
  const predicate = `must be a number from ${least} to ${most}`;
  return z.number({ error: predicate }).min(least, { error: predicate }).max(most, { error: predicate });
};
export const identifier = z.string().max(MOST_IDENTIFIER_CHARS);

/** A JSON object of any content: counted in full as its JSON by the hold. */
export const jsonObject = z.record(z.string(), z.unknown());

export const countOf = (value: object) => Object.keys(value).length;

/** A model id, its words giving `example` as one. */
export const modelFieldLike = (example: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `is required: a model id such as ${example}` : `must be a string: a model id such as ${example}`) })
    .max(256)
    .refine((model) => model.trim() !== '', { error: `is required: a model id such as ${example}` });

export const modelField = modelFieldLike('gpt-4o-mini');

export const metadataField = z
  .record(z.string().max(64), z.string().max(512))
  .refine((pairs) => countOf(pairs) <= MOST_METADATA_PAIRS, { error: `must have at most ${MOST_METADATA_PAIRS} pairs` });

/** The tiers with rates of their own, which the rate card does not have yet. */
const PRICED_ELSEWHERE_TIERS = ['flex', 'scale', 'priority'] as const;

export const serviceTierField = z.enum(['auto', 'default', ...PRICED_ELSEWHERE_TIERS]).refine((tier) => tier === 'auto' || tier === 'default', {
  error: (issue) => `is '${String(issue.input)}', which is not supported yet: the rate card has no rates for it; use 'auto' or 'default'`,
  params: { code: 'unsupported_parameter' },
});

export const promptCacheRetentionField = z
  .enum(['in-memory', '24h'])
  .refine((retention) => retention === 'in-memory', { error: "is '24h', which is not supported yet: its pricing is not on the rate card", params: { code: 'unsupported_parameter' } });

/** A flag that may only be false (or absent): true asks for something tokentab does not offer, said in `predicate`. */
export const onlyFalse = (predicate: string) => z.boolean().refine((flag) => flag === false, { error: predicate, params: { code: 'unsupported_parameter' } });

/**
 * Content is a string or a list of parts; the list's parts are checked one by one, and a content
 * that is neither is named as such (or as missing).
 */
export const content = <Part extends z.ZodType>(part: Part, least: number) =>
  z.union([z.string(), z.array(part).min(least, { error: 'must not be an empty list' }).max(MOST_LIST_ITEMS)], {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string or a list of content parts'),
  });
