// Malformed request bodies from a seeded generator, posted to a metered endpoint: each must be a 400
// naming the broken field (never a 500 or 502), and nothing reserved, charged or sent. Every body is
// one valid call with one thing broken in it: a wrong type, a missing required field, a value out of
// range or not among the accepted ones, an unknown field, nesting past the limit, or a list (or
// identifier) past its bound; each field of the call is a target. Used by gateway-fuzz (chat) and
// responses-fuzz (the Responses API).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertBooksClean, balanceOf, startGatewayHarness, usageEntries, type GatewayHarness } from './gateway.ts';
import { seededRandom } from './random.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

export interface Site {
  path: Path;
  value: Json;
  /** The object holding it, for required-field decisions. */
  parent: { [key: string]: Json } | Json[] | null;
}

/** What the generator needs to know of an endpoint's body. */
export interface FuzzTarget {
  /** e.g. `/v1/chat/completions` */
  path: string;
  /** A valid call that uses every field tokentab forwards. */
  validBody: { [key: string]: Json };
  /** JSON whose content is free (a tool's JSON schema): only the value as a whole is a target. */
  freeFormKeys: ReadonlySet<string>;
  /** Strings that must be one of a few values. */
  enumKeys: ReadonlySet<string>;
  /** List items that must be one of a few values (chat's `modalities`, the Responses `include`). */
  enumLists: ReadonlySet<string>;
  /** Identifiers with a length bound. */
  identifierKeys: ReadonlySet<string>;
  /** Keys the call cannot do without, where they are. */
  isRequired(site: Site): boolean;
}

/** Every place in the valid body a mutation can target, free-form JSON taken whole. */
function sitesOf(target: FuzzTarget): Site[] {
  const sites: Site[] = [];
  const visit = (value: Json, path: Path, parent: Site['parent']) => {
    if (path.length > 0) sites.push({ path, value, parent });
    const last = path[path.length - 1];
    if (typeof last === 'string' && (target.freeFormKeys.has(last) || last === 'metadata')) return;
    if (Array.isArray(value)) value.forEach((child, index) => visit(child, [...path, index], value));
    else if (value !== null && typeof value === 'object') for (const [key, child] of Object.entries(value)) visit(child, [...path, key], value);
  };
  visit(target.validBody, [], null);
  return sites;
}

function kindOf(value: Json): 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'boolean' | 'number' | 'string' | 'object';
}

/** Values of a kind no field that holds `kind` also accepts (a content string may be a list of parts, so no list of strings here). */
const WRONG_KINDS: Record<string, Json[]> = {
  number: ['zz', true, [1], { a: 1 }],
  boolean: [7, 'zz', [1], { a: 1 }],
  string: [7, 2.5, true, { a: 1 }, [1]],
  array: [7, true, { a: 1 }],
  object: [7, true, 'zz', [1]],
};

/** Arrays and objects `levels` deep, alternating, as JSON text (JSON.stringify itself would overflow on deep ones). */
function deepJson(levels: number): string {
  let text = '0';
  for (let level = 0; level < levels; level++) text = level % 2 === 0 ? `[${text}]` : `{"a":${text}}`;
  return text;
}

const KINDS = ['wrong type', 'missing', 'not accepted', 'out of range', 'unknown field', 'too deep', 'too long'] as const;

interface Mutation {
  what: string;
  path: Path;
  /** The body as JSON text. */
  json: string;
}

const PLACEHOLDER = '"__deep__"';

function generator(target: FuzzTarget, random: () => number) {
  const sites = sitesOf(target);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  /** The valid body with the value at `path` replaced (or removed). */
  const mutate = (path: Path, replace: (parent: { [key: string]: Json } | Json[], key: string | number) => void): { [key: string]: Json } => {
    const body = structuredClone(target.validBody);
    let parent: Json = body;
    for (const key of path.slice(0, -1)) parent = (parent as { [key: string]: Json })[key as string]!;
    replace(parent as { [key: string]: Json }, path[path.length - 1]!);
    return body;
  };
  const setAt = (path: Path, value: Json) =>
    mutate(path, (parent, key) => {
      (parent as { [key: string]: Json })[key as string] = value;
    });

  return (): Mutation => {
    // The kind first, then a field it fits: each kind is drawn as often as the others.
    const choice = pick(KINDS);
    for (;;) {
      const site = pick(sites);
      const key = site.path[site.path.length - 1];
      const kind = kindOf(site.value);
      const freeForm = site.path.some((part) => typeof part === 'string' && target.freeFormKeys.has(part));
      switch (choice) {
        case 'wrong type': {
          const wrong = pick(WRONG_KINDS[kind] ?? []);
          if (wrong === undefined) continue;
          return { what: `${choice} ${JSON.stringify(wrong)}`, path: site.path, json: JSON.stringify(setAt(site.path, wrong)) };
        }
        case 'missing': {
          if (!target.isRequired(site)) continue;
          const body = mutate(site.path, (parent, name) => {
            delete (parent as { [key: string]: Json })[name as string];
          });
          return { what: choice, path: site.path, json: JSON.stringify(body) };
        }
        case 'not accepted': {
          const inEnumList = typeof site.path[0] === 'string' && target.enumLists.has(site.path[0]) && site.path.length === 2;
          if (!(typeof key === 'string' && target.enumKeys.has(key)) && !inEnumList) continue;
          if (freeForm) continue;
          return { what: choice, path: site.path, json: JSON.stringify(setAt(site.path, pick(['zz', 'TEXT', '', 'priority ']))) };
        }
        case 'out of range': {
          if (kind !== 'number') continue;
          const value = pick([1e300, -1e300]);
          return { what: `${choice} ${value}`, path: site.path, json: JSON.stringify(setAt(site.path, value)) };
        }
        case 'unknown field': {
          const name = `zz_${Math.floor(random() * 1_000)}`;
          if (random() < 0.2) return { what: `${choice} ${name}`, path: [name], json: JSON.stringify({ ...target.validBody, [name]: pick([1, 'zz', { a: 1 }]) }) };
          if (kind !== 'object' || freeForm || key === 'metadata') continue;
          const body = mutate(site.path, (parent, at) => {
            (parent as { [key: string]: { [key: string]: Json } })[at as string]![name] = 1;
          });
          return { what: `${choice} ${name}`, path: [...site.path, name], json: JSON.stringify(body) };
        }
        case 'too deep': {
          const levels = 65 + Math.floor(random() * 4_000);
          const json = JSON.stringify(setAt(site.path, '__deep__')).replace(PLACEHOLDER, deepJson(levels));
          return { what: `${choice} ${levels}`, path: site.path, json };
        }
        case 'too long': {
          if (freeForm) continue;
          if (kind === 'array') {
            const items = site.value as Json[];
            const length = 2_100 + Math.floor(random() * 3_000);
            return { what: `${choice} ${length} items`, path: site.path, json: JSON.stringify(setAt(site.path, Array.from({ length }, () => items[0] ?? 'a'))) };
          }
          if (key === 'logit_bias') {
            const entries = Object.fromEntries(Array.from({ length: 1_100 + Math.floor(random() * 2_000) }, (_, index) => [String(index), 1]));
            return { what: `${choice} logit_bias`, path: site.path, json: JSON.stringify(setAt(site.path, entries)) };
          }
          if (kind === 'string' && typeof key === 'string' && target.identifierKeys.has(key)) {
            const length = 300 + Math.floor(random() * 5_000);
            return { what: `${choice} ${length} characters`, path: site.path, json: JSON.stringify(setAt(site.path, 'x'.repeat(length))) };
          }
          continue;
        }
      }
    }
  };
}

/** `messages[0].content` from its path, as the gateway names a field. */
function paramOf(path: Path): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`)).join('');
}

/** The error names the broken field, a field inside it, or (nesting, list bounds) the field holding it. */
function namesTheField(param: string, broken: string): boolean {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return within(param, broken) || within(broken, param);
}

const CREDITS_MC = 100_000_000;

/** The suite: the valid body accepted and metered, then `bodies` malformed ones from `seed`, each refused with nothing done. */
export function fuzzSuite(name: string, target: FuzzTarget, seed: number, bodies: number): void {
  const fuzz = suite<{ h: GatewayHarness }>(name);
  fuzz.before(async (context) => {
    context.h = await startGatewayHarness();
  });
  fuzz.after(async ({ h }) => {
    await assertBooksClean(h);
    await h.closeAll();
  });

  fuzz('the valid body the mutations start from is accepted and metered', async ({ h }) => {
    const account = await h.account(CREDITS_MC);
    const response = await h.post(target.path, account.key, target.validBody);
    assert.is(response.status, 200, await response.clone().text());
    await response.json();
    assert.is(h.fake.requests.length, 1);
    h.fake.reset();
  });

  fuzz(`${bodies} seeded malformed bodies: each a 400 naming the broken field, none reserved, charged or sent`, async ({ h }) => {
    const account = await h.account(CREDITS_MC);
    const generate = generator(target, seededRandom(seed));
    const seen = new Map<string, number>();
    for (let index = 0; index < bodies; index++) {
      const mutation = generate();
      const drawn = KINDS.find((kind) => mutation.what.startsWith(kind))!;
      seen.set(drawn, (seen.get(drawn) ?? 0) + 1);
      const label = `body ${index} (seed ${seed}): ${mutation.what} at ${paramOf(mutation.path)}`;
      const response = await h.post(target.path, account.key, mutation.json);
      const text = await response.text();
      assert.is(response.status, 400, `${label} → ${response.status} ${text.slice(0, 300)}`);
      const error = (JSON.parse(text) as { error: { type: string; param: string | null; message: string } }).error;
      assert.is(error.type, 'invalid_request_error', label);
      assert.type(error.param, 'string', `${label}: ${error.message}`);
      assert.ok(namesTheField(error.param!, paramOf(mutation.path)), `${label}: the error names '${error.param}' (${error.message})`);
    }
    // Every kind of mutation was drawn, many times.
    for (const kind of KINDS) {
      assert.ok((seen.get(kind) ?? 0) > bodies / KINDS.length / 2, `${kind}: ${seen.get(kind) ?? 0} bodies`);
    }
    assert.is(h.fake.requests.length, 0, 'nothing reached the upstream');
    assert.is((await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no hold');
    assert.is((await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no usage row');
    assert.is((await usageEntries(h, account.userId)).length, 0, 'no ledger entry');
    assert.equal(await balanceOf(h, account.userId), { balance_mc: CREDITS_MC, held_mc: 0 });
    assert.equal(h.logLines, [], 'nothing went wrong on the server side');
  });

  fuzz.run();
}
