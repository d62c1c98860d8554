// The usage API for scripts: calls made through the official openai SDK over several days, two models
// and two keys, then GET /v1/usage (newest first, filters, a cursor that visits every row once, other
// users' rows never seen) and GET /v1/usage/summary (equal to the sums of the listed rows, and kept
// up to date), the audit's daily rollup check, bad parameters, and migration 0012's backfill.
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { Migrator } from 'kysely';
import { migrations } from '../migrations/index.ts';
import { audit } from '../src/audit.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';
import { gatewaySuite, type Account, type GatewayHarness } from './helpers/gateway.ts';

const DAY_MS = 86_400_000;

/** What a usage item and a summary's numbers share. */
interface Counts {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  chargedMillicredits: number;
  chargedCredits: number;
}
interface Item extends Counts {
  requestId: string;
  createdAt: string;
  model: string;
  endpoint: string;
  apiKeyId: number | null;
  apiKeyName: string | null;
}
interface ListBody {
  object: string;
  data: Item[];
  has_more: boolean;
  next_cursor: string | null;
}
interface Totals extends Counts {
  calls: number;
}
interface Bucket extends Totals {
  day?: string;
  model?: string;
  apiKeyId?: number | null;
  apiKeyName?: string | null;
}
interface SummaryBody {
  object: string;
  from: string;
  to: string;
  group_by: string[];
  data: Bucket[];
  total: Totals;
}

interface World {
  alice: Account;
  /** Alice's second key, named "batch jobs", and its SDK client. */
  aliceBatch: Account;
  bob: Account;
  days: string[];
}

const tests = gatewaySuite('usage API');
let world: World;

async function get<T>(h: GatewayHarness, key: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as T };
}

/** Every page of GET /v1/usage through the SDK's own request method, following next_cursor. */
async function listAll(account: Account, query: Record<string, string | number> = {}, limit = 1_000): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | null = null;
  let pages = 0;
  for (;;) {
    const page: ListBody = await account.client.get('/usage', { query: { ...query, limit, ...(cursor && { cursor }) } });
    assert.is(page.object, 'list');
    pages++;
    items.push(...page.data);
    if (!page.has_more) {
      assert.is(page.next_cursor, null, 'the last page has no cursor');
      return { items, pages };
    }
    assert.ok(page.next_cursor, 'more rows: a cursor to them');
    assert.ok(pages < 100, 'pagination ends');
    cursor = page.next_cursor;
  }
}

const utcDay = (iso: string) => iso.slice(0, 10);

/** The sums of listed rows, as the summary words them. */
function sumsOf(items: Item[]): Totals {
  const chargedMillicredits = items.reduce((sum, i) => sum + i.chargedMillicredits, 0);
  return {
    calls: items.length,
    inputTokens: items.reduce((sum, i) => sum + i.inputTokens, 0),
    cachedInputTokens: items.reduce((sum, i) => sum + i.cachedInputTokens, 0),
    outputTokens: items.reduce((sum, i) => sum + i.outputTokens, 0),
    reasoningTokens: items.reduce((sum, i) => sum + i.reasoningTokens, 0),
    chargedMillicredits,
    chargedCredits: chargedMillicredits / 1000,
  };
}

/** What a summary grouped by `groupBy` must say, bucket by bucket, computed from the listed rows. */
function expectedBuckets(items: Item[], groupBy: ('day' | 'model' | 'key')[]): Bucket[] {
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const id = JSON.stringify([
      groupBy.includes('day') ? utcDay(item.createdAt) : '',
      groupBy.includes('model') ? item.model : '',
      groupBy.includes('key') ? (item.apiKeyId ?? 0) : 0,
    ]);
    groups.set(id, [...(groups.get(id) ?? []), item]);
  }
  // In the API's order: by day, then model, then key id (the playground's 0 first).
  const ordered = [...groups.entries()].map(([id, rows]) => ({ group: JSON.parse(id) as [string, string, number], rows }));
  ordered.sort(({ group: a }, { group: b }) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[2] - b[2]));
  return ordered.map(({ group: [day, model, keyId], rows }) => ({
    ...(groupBy.includes('day') && { day }),
    ...(groupBy.includes('model') && { model }),
    ...(groupBy.includes('key') && { apiKeyId: keyId === 0 ? null : keyId, apiKeyName: rows[0]!.apiKeyName }),
    ...sumsOf(rows),
  }));
}

/** The summary's buckets without the key prefix (checked apart), in the order the API gives (day, model, key). */
const bucketsOf = (body: SummaryBody) => body.data.map(({ apiKey: _prefix, ...bucket }: Bucket & { apiKey?: unknown }) => bucket);

async function chat(account: Account, model: string, text: string) {
  await account.client.chat.completions.create({ model, messages: [{ role: 'user', content: text }], max_tokens: 50 });
}

tests('calls over three days, two models and two keys are listed newest first, every row once across pages, no other user\'s', async ({ h }) => {
  const alice = await h.account(50_000_000, 'main app');
  const { key: batchKey, apiKey } = await createApiKey(h.db, h.clock, alice.userId, 'batch jobs');
  const aliceBatch: Account = { userId: alice.userId, apiKeyId: apiKey.id, key: batchKey, client: new OpenAI({ apiKey: batchKey, baseURL: `${h.url}/v1`, maxRetries: 0 }) };
  const bob = await h.account(50_000_000, 'bob app');
  const days: string[] = [];
  for (let day = 0; day < 3; day++) {
    days.push(new Date(h.clock.now()).toISOString().slice(0, 10));
    await chat(alice, 'gpt-4o-mini', `day ${day}: first question`);
    h.clock.advance(1_000);
    await chat(alice, 'gpt-4o', `day ${day}: a harder question, asked of the bigger model`);
    h.clock.advance(1_000);
    // Two calls at the same millisecond: the cursor orders them by id.
    await Promise.all([chat(aliceBatch, 'gpt-4o-mini', `day ${day}: batch one`), chat(aliceBatch, 'gpt-4o', `day ${day}: batch two`)]);
    await aliceBatch.client.embeddings.create({ model: 'text-embedding-3-small', input: `day ${day}: a text to embed` });
    await chat(bob, 'gpt-4o-mini', `bob on day ${day}`);
    h.clock.advance(DAY_MS);
  }
  world = { alice, aliceBatch, bob, days };

  const stored = await h.db.selectFrom('usage').select(['request_id', 'created_at_ms', 'id']).where('user_id', '=', alice.userId).orderBy('created_at_ms', 'desc').orderBy('id', 'desc').execute();
  assert.is(stored.length, 15, 'five calls a day for three days');
  const all = await listAll(alice);
  assert.equal(all.items.map((i) => i.requestId), stored.map((r) => r.request_id), 'every call of the user, newest first (ties by id)');
  assert.is(all.pages, 1);

  // Either of Alice's keys lists all her calls (the account's, not the key's).
  assert.equal((await listAll(aliceBatch)).items.map((i) => i.requestId), stored.map((r) => r.request_id));

  // Pages of 4: every row once, in the same order, and the last page says there is no more.
  const paged = await listAll(alice, {}, 4);
  assert.is(paged.pages, 4);
  assert.equal(paged.items.map((i) => i.requestId), stored.map((r) => r.request_id));
  // A page of exactly the rows left: has_more is false at once.
  const exact = await listAll(alice, {}, 5);
  assert.is(exact.pages, 3);
  assert.equal(exact.items.map((i) => i.requestId), stored.map((r) => r.request_id));

  // Each item is what GET /v1/usage/{id} answers for it.
  const newest = all.items[0]!;
  assert.equal(newest, await alice.client.get(`/usage/${newest.requestId}`));
  assert.is(newest.apiKeyId, aliceBatch.apiKeyId);
  assert.is(newest.apiKeyName, 'batch jobs');
  assert.is(newest.endpoint, 'embeddings');

  // Bob sees his three calls only; neither can read the other's by id.
  const bobs = await listAll(bob);
  assert.is(bobs.items.length, 3);
  assert.ok(bobs.items.every((i) => i.apiKeyId === bob.apiKeyId && !stored.some((r) => r.request_id === i.requestId)));
  assert.is((await get(h, bob.key, `/v1/usage/${newest.requestId}`)).status, 404);
});

tests('filters: model, key by id or name, playground, date range; the cursor keeps the filters', async ({ h }) => {
  const { alice, aliceBatch, days } = world;
  const all = (await listAll(alice)).items;
  const only = (predicate: (i: Item) => boolean) => all.filter(predicate).map((i) => i.requestId);
  const ids = async (query: Record<string, string | number>, limit?: number) => (await listAll(alice, query, limit)).items.map((i) => i.requestId);

  assert.equal(await ids({ model: 'gpt-4o' }), only((i) => i.model === 'gpt-4o'));
  assert.is((await ids({ model: 'gpt-4o' })).length, 6);
  assert.equal(await ids({ key: String(aliceBatch.apiKeyId) }), only((i) => i.apiKeyId === aliceBatch.apiKeyId));
  assert.equal(await ids({ key: 'batch jobs' }), only((i) => i.apiKeyId === aliceBatch.apiKeyId), 'a key by its name');
  assert.equal(await ids({ key: 'playground' }), [], 'no playground calls');
  assert.equal(await ids({ from: days[1]!, to: days[1]! }), only((i) => utcDay(i.createdAt) === days[1]));
  assert.equal(await ids({ from: days[1]! }), only((i) => utcDay(i.createdAt) >= days[1]!));
  assert.equal(await ids({ to: days[0]! }), only((i) => utcDay(i.createdAt) === days[0]));
  const combined = only((i) => i.model === 'gpt-4o-mini' && i.apiKeyId === aliceBatch.apiKeyId && utcDay(i.createdAt) >= days[1]!);
  assert.is(combined.length, 2);
  assert.equal(await ids({ model: 'gpt-4o-mini', key: 'batch jobs', from: days[1]! }, 1), combined, 'pages of one keep the filters');
});

tests('the summary by day, model and key equals the sums of the listed rows, and follows new calls', async ({ h }) => {
  const { alice, aliceBatch, bob, days } = world;
  const range = `from=${days[0]}&to=${days[2]}`;
  const summary = async (query: string) => {
    const { status, body } = await get<SummaryBody>(h, alice.key, `/v1/usage/summary?${query}`);
    assert.is(status, 200, JSON.stringify(body));
    return body;
  };
  let items = (await listAll(alice)).items;

  const total = await summary(range);
  assert.equal(total.data, [sumsOf(items)], 'no group_by: one total');
  assert.equal(total.total, sumsOf(items));
  assert.equal([total.object, total.from, total.to, total.group_by], ['list', days[0], days[2], []]);

  for (const [query, groupBy] of [
    ['group_by=day', ['day']],
    ['group_by=model', ['model']],
    ['group_by=key', ['key']],
    ['group_by=day,model,key', ['day', 'model', 'key']],
    ['group_by=key&group_by=day', ['key', 'day']],
  ] as const) {
    const body = await summary(`${range}&${query}`);
    assert.equal(body.group_by, groupBy);
    assert.equal(bucketsOf(body), expectedBuckets(items, [...groupBy]), query);
    assert.equal(body.total, sumsOf(items), `${query}: the total`);
  }
  const byKey = await summary(`${range}&group_by=key`);
  assert.equal(byKey.data.map((b) => [b.apiKeyId, b.apiKeyName]), [[alice.apiKeyId, 'main app'], [aliceBatch.apiKeyId, 'batch jobs']]);

  // Filters narrow the totals as they narrow the list.
  const miniOnBatch = await summary(`${range}&model=gpt-4o-mini&key=batch%20jobs&group_by=day`);
  assert.equal(bucketsOf(miniOnBatch), expectedBuckets(items.filter((i) => i.model === 'gpt-4o-mini' && i.apiKeyId === aliceBatch.apiKeyId), ['day']));
  const middleDay = await summary(`from=${days[1]}&to=${days[1]}`);
  assert.equal(middleDay.total, sumsOf(items.filter((i) => utcDay(i.createdAt) === days[1])));
  // Days with nothing are left out; the default range is the 30 days up to today.
  const defaulted = await summary('group_by=day');
  assert.equal(defaulted.data.map((b) => b.day), days);
  assert.is(defaulted.to, new Date(h.clock.now()).toISOString().slice(0, 10));

  // More calls today: the summary moves by exactly their charges.
  const before = await summary('group_by=day');
  await chat(alice, 'gpt-4o', 'one more, today');
  await chat(aliceBatch, 'gpt-4o-mini', 'and another');
  items = (await listAll(alice)).items;
  const after = await summary('group_by=day');
  assert.equal(bucketsOf(after), expectedBuckets(items, ['day']));
  assert.is(after.total.calls, before.total.calls + 2);
  const today = items.filter((i) => utcDay(i.createdAt) === after.to);
  assert.is(today.length, 2);
  assert.is(after.total.chargedMillicredits, before.total.chargedMillicredits + today[0]!.chargedMillicredits + today[1]!.chargedMillicredits);

  // Bob's summary is Bob's.
  const bobs = await get<SummaryBody>(h, bob.key, `/v1/usage/summary?${range}`);
  assert.equal(bobs.body.total, sumsOf((await listAll(bob)).items));
});

tests('the audit catches a daily rollup that differs from the usage rows', async ({ h }) => {
  const { alice } = world;
  const row = await h.db.selectFrom('usage_daily').selectAll().where('user_id', '=', alice.userId).orderBy('day').executeTakeFirstOrThrow();
  const where = <Q extends { where: (...args: any[]) => any }>(q: Q): Q =>
    q.where('user_id', '=', row.user_id).where('day', '=', row.day).where('model', '=', row.model).where('api_key_id', '=', row.api_key_id).where('endpoint', '=', row.endpoint);
  try {
    await where(h.db.updateTable('usage_daily').set({ charged_mc: Number(row.charged_mc) + 1 })).execute();
    const found = (await audit(h.db)).map((v) => v.detail);
    assert.is(found.length, 1, found.join('\n'));
    assert.match(found[0]!, `daily usage of user ${alice.userId}, ${row.day}, ${row.model}, key ${row.api_key_id}, ${row.endpoint}: calls ${row.calls}`);
    // A row missing is reported too.
    await where(h.db.deleteFrom('usage_daily')).execute();
    assert.match((await audit(h.db)).map((v) => v.detail).join('\n'), 'nothing but its usage rows have');
  } finally {
    // Put back as it was, so the books are clean again for the next test.
    await where(h.db.deleteFrom('usage_daily')).execute();
    await h.db.insertInto('usage_daily').values(row).execute();
  }
  assert.equal(await audit(h.db), []);
});

tests('bad parameters answer 400 naming the parameter; /v1/usage/summary is never read as a request id', async ({ h }) => {
  const { alice, bob, days } = world;
  const cases: [string, string][] = [
    ['/v1/usage?from=2026-13-01', 'from'],
    ['/v1/usage?to=yesterday', 'to'],
    [`/v1/usage?from=${days[2]}&to=${days[0]}`, 'to'],
    ['/v1/usage?model=gpt-5-imaginary', 'model'],
    [`/v1/usage?key=${bob.apiKeyId}`, 'key'],
    ['/v1/usage?key=bob%20app', 'key'],
    ['/v1/usage?limit=0', 'limit'],
    ['/v1/usage?limit=1001', 'limit'],
    ['/v1/usage?limit=ten', 'limit'],
    ['/v1/usage?cursor=bm90LWEtY3Vyc29y.AAAAAAAAAAAAAAAA', 'cursor'],
    ['/v1/usage/summary?group_by=week', 'group_by'],
    [`/v1/usage/summary?group_by=${'day,'.repeat(20)}`, 'group_by'],
    ['/v1/usage/summary?from=2025-01-01&to=2026-12-31', 'from'],
    ['/v1/usage/summary?from=2099-01-01', 'to'],
    ['/v1/usage/summary?from=2026-02-30', 'from'],
    [`/v1/usage/summary?key=${bob.apiKeyId}`, 'key'],
  ];
  for (const [path, param] of cases) {
    const { status, body } = await get<{ error: { param: string; message: string; type: string } }>(h, alice.key, path);
    assert.is(status, 400, path);
    assert.is(body.error.param, param, `${path}: ${body.error.message}`);
    assert.is(body.error.type, 'invalid_request_error');
  }
  // The SDK raises it as an APIError with the parameter.
  try {
    await alice.client.get('/usage', { query: { limit: 5_000 } });
    assert.unreachable('a limit over 1000 is refused');
  } catch (error) {
    assert.instance(error, APIError);
    assert.is((error as APIError).status, 400);
    assert.is((error as APIError).param, 'limit');
  }
  // A year of 366 days is the longest range; no key, no answer.
  assert.is((await get(h, alice.key, '/v1/usage/summary?from=2024-01-01&to=2024-12-31')).status, 200);
  assert.is((await fetch(`${h.url}/v1/usage/summary`)).status, 401);
  assert.is((await fetch(`${h.url}/v1/usage`)).status, 401);
});

tests.run();

const migrationTests = suite('migration 0012');

migrationTests('usage rows written before 0012 are rolled up by it, per user, UTC day, model, key and endpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-usage-daily-'));
  const db = openTestDatabase(await emptyDatabaseUrl(dir, 'test.db'));
  try {
    const before = Object.keys(migrations).filter((name) => name < '0012').at(-1)!;
    const result = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateTo(before);
    assert.not.ok(result.error);
    const users = [];
    for (const email of ['a@example.com', 'b@example.com']) {
      const user = await db.insertInto('users').values({ email, email_normalized: email, password_hash: 'x', created_at_ms: 1 } as never).returning('id').executeTakeFirstOrThrow();
      users.push(Number(user.id));
    }
    const rate = await db.insertInto('rates').values({ model: 'gpt-4o-mini', version: 1, label: 'Eco', input_mc_per_1k: 2_400, cached_input_mc_per_1k: 1_200, output_mc_per_1k: 9_600, max_output_tokens: 16_384, created_at_ms: 1 } as never).returning('id').executeTakeFirstOrThrow();
    const day1 = Date.UTC(2026, 9, 31, 23, 59, 59, 999);
    const day2 = day1 + 1;
    // [user, at, model, key, endpoint, input, cached, output, reasoning, charged]
    const rows: [number, number, string, number | null, string, number, number, number, number, number][] = [
      [users[0]!, day1, 'gpt-4o-mini', 7, 'chat', 100, 10, 50, 0, 700],
      [users[0]!, day1 - 5_000, 'gpt-4o-mini', 7, 'chat', 200, 0, 20, 5, 650],
      [users[0]!, day1, 'gpt-4o-mini', null, 'chat', 30, 0, 3, 0, 90],
      [users[0]!, day2, 'gpt-4o-mini', 7, 'chat', 1, 0, 1, 0, 12],
      [users[0]!, day2, 'gpt-4o-mini', 7, 'responses', 40, 0, 40, 30, 480],
      [users[1]!, day1, 'gpt-4o-mini', 8, 'chat', 5, 0, 5, 0, 60],
    ];
    let n = 0;
    for (const [userId, at, model, keyId, endpoint, input, cached, output, reasoning, charged] of rows) {
      const requestId = `req_backfill_${++n}`;
      const hold = await db
        .insertInto('holds')
        .values({ user_id: userId, api_key_id: keyId, request_id: requestId, model, rate_id: Number(rate.id), amount_mc: charged, input_mc_per_1k: 2_400, cached_input_mc_per_1k: 1_200, output_mc_per_1k: 9_600, rounding_mode: 'exact', status: 'settled', created_at_ms: at, expires_at_ms: at + 60_000, ended_at_ms: at } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('usage')
        .values({
          request_id: requestId, user_id: userId, hold_id: Number(hold.id), api_key_id: keyId, model, input_tokens: input, cached_input_tokens: cached, output_tokens: output,
          input_mc_per_1k: 2_400, cached_input_mc_per_1k: 1_200, output_mc_per_1k: 9_600, rounding_mode: 'exact', hold_mc: charged, charged_mc: charged, shortfall_mc: 0,
          status: 'ok', estimated: 0, latency_ms: 1, upstream_response_id: null, created_at_ms: at, endpoint, reasoning_tokens: reasoning,
        } as never)
        .execute();
    }
    await migrateToLatest(db);
    const rolled = await db.selectFrom('usage_daily').selectAll().orderBy('user_id').orderBy('day').orderBy('api_key_id').orderBy('endpoint').execute();
    assert.equal(
      rolled.map((r) => [Number(r.user_id), r.day, r.model, Number(r.api_key_id), r.endpoint, Number(r.calls), Number(r.input_tokens), Number(r.cached_input_tokens), Number(r.output_tokens), Number(r.reasoning_tokens), Number(r.charged_mc)]),
      [
        [users[0], '2026-10-31', 'gpt-4o-mini', 0, 'chat', 1, 30, 0, 3, 0, 90],
        [users[0], '2026-10-31', 'gpt-4o-mini', 7, 'chat', 2, 300, 10, 70, 5, 1_350],
        [users[0], '2026-11-01', 'gpt-4o-mini', 7, 'chat', 1, 1, 0, 1, 0, 12],
        [users[0], '2026-11-01', 'gpt-4o-mini', 7, 'responses', 1, 40, 0, 40, 30, 480],
        [users[1], '2026-10-31', 'gpt-4o-mini', 8, 'chat', 1, 5, 0, 5, 0, 60],
      ],
    );
    // The audit's daily check agrees (its other checks see rows written by hand, without ledger entries).
    assert.equal((await audit(db)).filter((v) => v.detail.startsWith('daily usage')), []);
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

migrationTests.run();
