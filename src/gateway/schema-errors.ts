// Turns the chat body schema's first complaint into one InvalidRequestError: the field as `param`
// (`messages[0].content[1]`), a sentence naming it, and a code for what is unknown or unsupported.
import type { z } from 'zod';
import { InvalidRequestError } from './errors.ts';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const KINDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

/** `messages[0].content` from ['messages', 0, 'content']. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join('');
}

/**
 * What is wrong, as a predicate for the field's name to precede ("must be a list"): the words for
 * the issues the schema does not word itself. Passed to each parse.
 */
export function describeIssue(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${KINDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return issue.origin === 'array' ? `must have at least ${issue.minimum} items` : issue.origin === 'string' ? `must have at least ${issue.minimum} characters` : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' ? `must have at most ${issue.maximum} items` : issue.origin === 'string' ? `must have at most ${issue.maximum} characters` : `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union names the values its discriminator may take.
      // (An optional discriminator, such as a message's `type`, adds undefined: not a value to name.)
      const options = ((issue as { options?: unknown[] }).options ?? []).filter((value) => value !== undefined);
      return options.length > 0 ? `must be one of ${options.map((value) => JSON.stringify(value)).join(', ')}` : 'is not one of the accepted forms';
    }
    case 'invalid_key':
      return 'is not an accepted key';
    case 'invalid_format':
      return 'is not in the accepted format';
    default:
      return 'is not accepted';
  }
}

/**
 * A union's complaint about the one form its input came closest to: the branch whose first issue
 * lies deepest (a list of parts with a bad part, rather than "not a string"). Null when every
 * branch refused the value itself, so the union's own words fit best.
 */
function closestBranchIssue(issue: Issue): Issue | null {
  if (issue.code !== 'invalid_union') return null;
  let closest: Issue | null = null;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first && first.path.length > 0 && (!closest || first.path.length > closest.path.length)) closest = first;
  }
  return closest;
}

/** The first issue as the 400 the caller gets. */
export function requestErrorFrom(issues: readonly Issue[]): InvalidRequestError {
  let issue = issues[0]!;
  let path: PropertyKey[] = [...issue.path];
  for (let branch = closestBranchIssue(issue); branch; branch = closestBranchIssue(branch)) {
    issue = branch;
    path = [...path, ...branch.path];
  }
  if (issue.code === 'unrecognized_keys') {
    const param = paramOf([...path, issue.keys[0]!]);
    return new InvalidRequestError(
      `Unknown parameter '${param}'. tokentab forwards only the parameters it can meter, and refuses the others so that none is silently ignored.`,
      param,
      'unknown_parameter',
    );
  }
  const param = paramOf(path);
  const code = issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : null;
  return new InvalidRequestError(`${param === '' ? 'The request body' : `'${param}'`} ${issue.message}.`, param === '' ? null : param, code);
}
