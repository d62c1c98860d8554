// Client disconnects over real HTTP: before the first byte and mid-stream, the upstream is aborted
// and the call settled per DESIGN §5 (input in full + output received, estimated, status aborted).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { costMc } from '../src/pricing/cost.ts';
import { countChatInputTokens, countTextTokens } from '../src/gateway/tokens.ts';
import { rateOf } from './helpers/db.ts';
import { assertBooksClean, balanceOf, startGatewayHarness, usageEntries, usageRow, type GatewayHarness } from './helpers/gateway.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Count slowly, please.' }];
const INPUT_TOKENS = await countChatInputTokens({ messages });
const HUNDRED_CREDITS_MC = 100_000_000;

async function waitFor(check: () => boolean, what: string, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The slow-stream fake's pieces: "Piece 1. Piece 2. …" */
const slowText = (count: number) => Array.from({ length: count }, (_, index) => `Piece ${index + 1}. `).join('');

async function assertAborted(h: GatewayHarness, requestId: string, userId: number, possibleOutputTokens: number[]) {
  const row = await usageRow(h, requestId);
  assert.is(row.status, 'aborted');
  assert.is(row.estimated, 1);
  assert.is(row.input_tokens, INPUT_TOKENS, 'input in full, as counted here');
  assert.is(row.cached_input_tokens, 0);
  assert.ok(possibleOutputTokens.includes(row.output_tokens), `output ${row.output_tokens} is what was received (one of ${possibleOutputTokens.join(', ')})`);
  const expectedMc = costMc({ inputTokens: INPUT_TOKENS, cachedInputTokens: 0, outputTokens: row.output_tokens }, await rateOf(h.db, 'gpt-4o-mini'), 'exact');
  assert.is(row.charged_mc, expectedMc);
  const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', requestId).executeTakeFirstOrThrow();
  assert.is(hold.status, 'settled', 'the hold is closed');
  const entries = await usageEntries(h, userId);
  assert.is(entries.length, 1);
  assert.is(entries[0]!.amount_mc, -expectedMc);
  assert.equal(await balanceOf(h, userId), { balance_mc: HUNDRED_CREDITS_MC - expectedMc, held_mc: 0 });
  assert.is(h.gateway.inFlight.size, 0);
  return row;
}

const disconnects = suite<{ h: GatewayHarness }>('client disconnects');
disconnects.before(async (context) => {
  context.h = await startGatewayHarness();
});
disconnects.before.each(({ h }) => h.fake.reset());
disconnects.after.each(async ({ h }) => assertBooksClean(h));
disconnects.after(async ({ h }) => h.closeAll());

for (const stream of [true, false]) {
  disconnects(`a client that goes away before the first byte (${stream ? 'stream' : 'non-stream'}): upstream aborted, input charged, status aborted`, async ({ h }) => {
    const account = await h.account(HUNDRED_CREDITS_MC);
    h.fake.setBehaviour({ kind: 'hang' });
    const controller = new AbortController();
    const pending = h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 100, stream }, { signal: controller.signal }).catch((error: Error) => error);
    await waitFor(() => h.fake.requests.length === 1, 'the upstream call');
    const hold = await h.db.selectFrom('holds').select(['request_id', 'status']).where('user_id', '=', account.userId).executeTakeFirstOrThrow();
    assert.is(hold.status, 'pending');
    controller.abort();
    assert.is(((await pending) as Error).name, 'AbortError');
    await h.fake.waitForAborted(1);
    await assertAborted(h, hold.request_id, account.userId, [0]);
  });
}

disconnects('a client that goes away mid-stream: upstream aborted, charged for input and the output received', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 40, chunkDelayMs: 40 });
  const controller = new AbortController();
  const stream = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 500, stream: true }, { signal: controller.signal });
  let seen = '';
  for await (const chunk of stream) {
    seen += chunk.choices[0]?.delta.content ?? '';
    if (seen === slowText(3)) controller.abort();
  }
  assert.is(seen, slowText(3));
  await h.fake.waitForAborted(1);
  const hold = await h.db.selectFrom('holds').select('request_id').where('user_id', '=', account.userId).executeTakeFirstOrThrow();
  // The gateway may have received a few pieces more than the client read before the abort reached it (more on a busy machine).
  const possible = Array.from({ length: 20 }, (_, index) => countTextTokens(slowText(3 + index)));
  await waitFor(() => h.gateway.inFlight.size === 0, 'the call to settle');
  const row = await assertAborted(h, hold.request_id, account.userId, possible);
  assert.ok(row.output_tokens >= countTextTokens(slowText(3)));
  assert.ok(h.fake.lastRequest!.abortedByClient);
});

disconnects('a raw HTTP client that closes its socket mid-stream is detected the same way', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 40, chunkDelayMs: 40 });
  const controller = new AbortController();
  const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 500, stream: true }, { signal: controller.signal });
  assert.is(response.status, 200);
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('Piece 2.')) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  await h.fake.waitForAborted(1);
  await waitFor(() => h.gateway.inFlight.size === 0, 'the call to settle');
  const requestId = response.headers.get('x-request-id')!;
  const possible = Array.from({ length: 20 }, (_, index) => countTextTokens(slowText(2 + index)));
  await assertAborted(h, requestId, account.userId, possible);
});

disconnects.run();
