// Reading what the SDK sent: Stripe's form decoding, the parameter checks every endpoint runs, and the errors they throw.

// Wire values stay strings ("true", "500") exactly as the SDK sent them; `any` keeps test assertions short.
export type Form = Record<string, any>;

// Top-level parameters each endpoint knows, from the SDK's own *Params types (each resource file lists its own):
// an unknown one is a 400 in Stripe too, so a typo in the app fails here instead of being silently ignored.
export const PAGINATION = ['limit', 'starting_after', 'ending_before'];
export const RETRIEVE_PARAMS = ['expand'];

/** Decodes Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested objects and arrays of strings. */
export function decodeForm(text: string): Form {
  const root: Form = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    const segments = match ? [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)] : [rawKey];
    if (segments.includes('__proto__')) continue;
    let node: any = root;
    segments.forEach((segment, index) => {
      const key = segment === '' && Array.isArray(node) ? node.length : segment;
      if (index === segments.length - 1) {
        node[key] = value;
        return;
      }
      node[key] ??= /^\d*$/.test(segments[index + 1]!) ? [] : {};
      node = node[key];
    });
  }
  return root;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: Record<string, unknown>,
  ) {
    super(String(error.message));
  }
}

export function invalid(message: string, param?: string, code?: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });
}

export function missing(object: string, id: string, param: string, status = 404): ApiError {
  return new ApiError(status, {
    type: 'invalid_request_error', code: 'resource_missing', doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    message: `No such ${object}: '${id}'`, param,
  });
}

export function checkParams(form: Form, allowed: readonly string[]): void {
  for (const key of Object.keys(form)) {
    if (!allowed.includes(key)) throw invalid(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

export function text(value: unknown, param: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${JSON.stringify(value)}`, param);
  return value;
}

export function integer(value: unknown, param: string): number {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${String(value)}`, param);
  return Number(value);
}

export function boolean(value: unknown, param: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalid(`Invalid boolean: ${String(value)}`, param);
}

export function url(value: unknown, param: string): string | null {
  const given = text(value, param);
  if (given === null) return null;
  try {
    new URL(given);
  } catch {
    throw invalid('Not a valid URL', param, 'url_invalid');
  }
  return given;
}

export function metadata(value: unknown, param = 'metadata'): Record<string, string> {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('Invalid hash', param);
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw invalid(`Invalid string: ${JSON.stringify(entry)}`, `${param}[${key}]`);
    if (key.length > 40) throw invalid('Metadata keys can have up to 40 characters', `${param}[${key}]`);
    if (entry.length > 500) throw invalid('Metadata values can have up to 500 characters', `${param}[${key}]`);
    if (entry !== '') result[key] = entry;
  }
  if (Object.keys(result).length > 50) throw invalid('Metadata can have up to 50 keys', param);
  return result;
}

export function expandPaths(form: Form): string[] {
  const value = form.expand;
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((path, index) => {
    if (typeof path !== 'string') throw invalid('Invalid array', `expand[${index}]`);
    return path;
  });
}
