// The upstreams the gateway may call (README, Several upstreams): read from UPSTREAMS_FILE and checked
// whole before the start, or the one upstream of OPENAI_API_KEY / OPENAI_BASE_URL (or the demo model).
// Keys are never in the file: an upstream names the environment variable that holds its key.

/** One named upstream as configured; its key already read from the environment. */
export interface UpstreamSpec {
  readonly name: string;
  /** The OpenAI-compatible base URL, including its /v1 (as in the SDK); null: the built-in demo model. */
  readonly baseUrl: string | null;
  /** null: no key is sent (a local server), or the demo model. Never printed. */
  readonly apiKey: string | null;
  /** Extra headers sent with every request to it (not secrets: those go in the key's variable). */
  readonly headers: Readonly<Record<string, string>>;
  /** Rate card model → the model name sent to this upstream; null: any model, under its own name. */
  readonly models: Readonly<Record<string, string>> | null;
  /** How long one attempt may wait for the response headers before the next upstream is tried; null: the call's deadline. */
  readonly headersTimeoutMs: number | null;
}

export interface UpstreamsConfig {
  /** The file's path, or null for the one upstream from OPENAI_*. */
  readonly file: string | null;
  readonly upstreams: readonly UpstreamSpec[];
  /** Rate card model → the names of its upstreams in the order they are tried (every model the file routes). */
  readonly routes: Readonly<Record<string, readonly string[]>>;
}

/** A problem with the file; the configuration reports it as one line naming the file and the entry. */
export class UpstreamsFileError extends Error {
  override name = 'UpstreamsFileError';
}

export const DEFAULT_UPSTREAM_NAME = 'default';
const OPENAI_BASE_URL = 'https://api.openai.com/v1';

// Bounds, so a file can never make the start (or a call's failover) unbounded.
export const MAX_UPSTREAMS_FILE_BYTES = 1024 * 1024;
const MAX_UPSTREAMS = 64;
const MAX_MODELS_PER_UPSTREAM = 1_000;
const MAX_UPSTREAMS_PER_MODEL = 8;
const MAX_HEADERS = 32;
const MAX_HEADER_VALUE_CHARS = 4_096;
const MAX_MODEL_NAME_CHARS = 256;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
// Visible ASCII and spaces only: no line breaks to split a request with.
const HEADER_VALUE = /^[\x20-\x7e]*$/;
/** Set by the SDK from the key (or removed for a keyless upstream); a file cannot set them beside it. */
const RESERVED_HEADERS = new Set(['authorization', 'content-type', 'content-length', 'host', 'accept']);

type Env = Record<string, string | undefined>;

/** The one upstream of today's variables: OpenAI (or OPENAI_BASE_URL) with OPENAI_API_KEY, or the demo model without a key. */
export function singleUpstream(apiKey: string | null, baseUrl: string | null): UpstreamsConfig {
  return Object.freeze({
    file: null,
    upstreams: Object.freeze([
      Object.freeze({ name: DEFAULT_UPSTREAM_NAME, baseUrl: apiKey === null ? null : (baseUrl ?? OPENAI_BASE_URL), apiKey, headers: {}, models: null, headersTimeoutMs: null }),
    ]),
    routes: Object.freeze({}),
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const quoted = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new UpstreamsFileError(`${where}: unknown field ${quoted(key)} (allowed: ${allowed.join(', ')})`);
  }
}

function httpUrl(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new UpstreamsFileError(`${where}: base_url must be an http(s) URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UpstreamsFileError(`${where}: base_url must be an http(s) URL, got ${quoted(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UpstreamsFileError(`${where}: base_url must be an http(s) URL, got ${quoted(value)}`);
  // Credentials in the URL would be a secret in the file.
  if (url.username !== '' || url.password !== '') throw new UpstreamsFileError(`${where}: base_url must not hold credentials: put the key in the variable named by api_key_env`);
  return value.replace(/\/+$/, '');
}

function apiKeyFrom(value: unknown, env: Env, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !ENV_NAME.test(value)) throw new UpstreamsFileError(`${where}: api_key_env must name an environment variable (letters, digits, _)`);
  const key = env[value]?.trim();
  // Names the variable, never its value.
  if (!key) throw new UpstreamsFileError(`${where}: api_key_env names ${value}, which is not set`);
  return key;
}

function headersOf(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new UpstreamsFileError(`${where}: headers must be an object of header names to text values`);
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) throw new UpstreamsFileError(`${where}: headers has ${entries.length} entries, at most ${MAX_HEADERS}`);
  const headers: Record<string, string> = {};
  for (const [name, text] of entries) {
    if (!HEADER_NAME.test(name)) throw new UpstreamsFileError(`${where}: headers: ${quoted(name)} is not a valid header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new UpstreamsFileError(`${where}: headers: ${name} is set by tokentab (the key goes in api_key_env)`);
    if (typeof text !== 'string' || text.length > MAX_HEADER_VALUE_CHARS || !HEADER_VALUE.test(text)) {
      throw new UpstreamsFileError(`${where}: headers.${name} must be text of printable ASCII, at most ${MAX_HEADER_VALUE_CHARS} characters`);
    }
    headers[name] = text;
  }
  return headers;
}

function modelName(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_MODEL_NAME_CHARS) {
    throw new UpstreamsFileError(`${where} must be a model name of 1 to ${MAX_MODEL_NAME_CHARS} characters`);
  }
  return value;
}

function modelsOf(value: unknown, where: string): Record<string, string> {
  // A list serves each model under its own name; an object maps each to the upstream's name for it.
  if (!Array.isArray(value) && !isObject(value)) {
    throw new UpstreamsFileError(`${where}: models must be an object of rate card model → upstream model name (or a list of model names)`);
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((model) => [modelName(model, `${where}: models[]`), model]) : Object.entries(value);
  if (entries.length === 0) throw new UpstreamsFileError(`${where}: models is empty: name at least one model it serves`);
  if (entries.length > MAX_MODELS_PER_UPSTREAM) throw new UpstreamsFileError(`${where}: models has ${entries.length} entries, at most ${MAX_MODELS_PER_UPSTREAM}`);
  const models: Record<string, string> = {};
  for (const [model, upstreamModel] of entries) {
    modelName(model, `${where}: a model`);
    models[model] = modelName(upstreamModel, `${where}: models.${model}`);
  }
  return models;
}

function timeoutOf(value: unknown, where: string, callTimeoutSeconds: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > callTimeoutSeconds) {
    throw new UpstreamsFileError(`${where}: headers_timeout_seconds must be a whole number from 1 to UPSTREAM_TIMEOUT_SECONDS (${callTimeoutSeconds})`);
  }
  return value * 1000;
}

function upstreamOf(value: unknown, index: number, env: Env, callTimeoutSeconds: number): UpstreamSpec {
  let where = `upstreams[${index}]`;
  if (!isObject(value)) throw new UpstreamsFileError(`${where} must be an object`);
  if (typeof value.name !== 'string' || !NAME.test(value.name)) {
    throw new UpstreamsFileError(`${where}: name must be 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  where = `${where} (${quoted(value.name)})`;
  onlyKeys(value, ['name', 'base_url', 'api_key_env', 'headers', 'models', 'headers_timeout_seconds'], where);
  return Object.freeze({
    name: value.name,
    baseUrl: httpUrl(value.base_url, where),
    apiKey: apiKeyFrom(value.api_key_env, env, where),
    headers: Object.freeze(headersOf(value.headers, where)),
    models: Object.freeze(modelsOf(value.models, where)),
    headersTimeoutMs: timeoutOf(value.headers_timeout_seconds, where, callTimeoutSeconds),
  });
}

function routesOf(value: unknown, upstreams: readonly UpstreamSpec[]): Record<string, readonly string[]> {
  if (value !== undefined && value !== null && !isObject(value)) throw new UpstreamsFileError('routes must be an object of model → list of upstream names');
  const given = (value ?? {}) as Record<string, unknown>;
  const byName = new Map(upstreams.map((upstream) => [upstream.name, upstream]));
  const routes: Record<string, readonly string[]> = {};
  for (const [model, names] of Object.entries(given)) {
    const where = `routes.${model}`;
    if (!Array.isArray(names) || names.length === 0 || names.length > MAX_UPSTREAMS_PER_MODEL) {
      throw new UpstreamsFileError(`${where} must list 1 to ${MAX_UPSTREAMS_PER_MODEL} upstream names, in the order they are tried`);
    }
    names.forEach((name, index) => {
      if (typeof name !== 'string' || !byName.has(name)) throw new UpstreamsFileError(`${where}[${index}]: no upstream is named ${quoted(String(name))}`);
      if (names.indexOf(name) !== index) throw new UpstreamsFileError(`${where}[${index}]: ${quoted(name)} is listed twice`);
      if (!(model in byName.get(name)!.models!)) throw new UpstreamsFileError(`${where}[${index}]: upstream ${quoted(name)} does not serve ${model} (add it to its models)`);
    });
    routes[model] = Object.freeze([...(names as string[])]);
  }
  // A model no route lists is tried on the upstreams serving it, in the file's order.
  for (const upstream of upstreams) {
    for (const model of Object.keys(upstream.models!)) {
      if (model in given) continue;
      routes[model] = [...(routes[model] ?? []), upstream.name];
    }
  }
  for (const [model, names] of Object.entries(routes)) {
    if (names.length > MAX_UPSTREAMS_PER_MODEL) throw new UpstreamsFileError(`${model} is served by ${names.length} upstreams, at most ${MAX_UPSTREAMS_PER_MODEL}: list the ones to try in routes.${model}`);
    routes[model] = Object.freeze(names);
  }
  return routes;
}

/**
 * Reads the file's text: `{ "upstreams": [{ name, base_url, api_key_env?, headers?, models, headers_timeout_seconds? }], "routes"?: { model: [names] } }`.
 * Throws UpstreamsFileError naming the entry; never a key.
 */
export function parseUpstreamsFile(text: string, file: string, env: Env, callTimeoutSeconds: number): UpstreamsConfig {
  if (text.length > MAX_UPSTREAMS_FILE_BYTES) throw new UpstreamsFileError(`the file is larger than ${MAX_UPSTREAMS_FILE_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UpstreamsFileError(`not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  if (!isObject(parsed)) throw new UpstreamsFileError('the file must hold a JSON object with "upstreams" (and optionally "routes")');
  onlyKeys(parsed, ['upstreams', 'routes'], 'the file');
  const list = parsed.upstreams;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_UPSTREAMS) throw new UpstreamsFileError(`upstreams must list 1 to ${MAX_UPSTREAMS} upstreams`);
  const upstreams = list.map((value, index) => upstreamOf(value, index, env, callTimeoutSeconds));
  const seen = new Set<string>();
  upstreams.forEach((upstream, index) => {
    if (seen.has(upstream.name)) throw new UpstreamsFileError(`upstreams[${index}]: the name ${quoted(upstream.name)} is used twice`);
    seen.add(upstream.name);
  });
  return Object.freeze({ file, upstreams: Object.freeze(upstreams), routes: Object.freeze(routesOf(parsed.routes, upstreams)) });
}

/** Whether every upstream is the demo model (the banner's demo mode). */
export function onlyDemoUpstreams(config: UpstreamsConfig): boolean {
  return config.upstreams.every((upstream) => upstream.baseUrl === null);
}
