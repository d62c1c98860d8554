// Client disconnects over real HTTP. A stream (before the first byte or mid-stream): the upstream is
// aborted and the call charged for input in full + output received, estimated, status aborted. A
// non-streamed call: the upstream is left to finish (it bills the answer anyway) and the call is
// charged what it reports, status aborted, not estimated; bounded by the upstream timeout.
import * as assert from 'uvu/assert';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { costMc } from '../src/pricing/cost.ts';
import { countChatInputTokens, countTextTokens } from '../src/gateway/tokens.ts';
import { FAKE_DEFAULT_TEXT } from './fakes/openai-upstream.ts';
import { parse } from './helpers/app.ts';
import { rateOf } from './helpers/db.ts';
import { sessionCookie } from './helpers/signed-in.ts';
import { assertBooksClean, balanceOf, startGatewayHarness, usageEntries, usageRow, gatewaySuite, type GatewayHarness } from './helpers/gateway.ts';
import { waitFor } from './helpers/assert.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Count slowly, please.' }];
const INPUT_TOKENS = await countChatInputTokens({ messages });
const HUNDRED_CREDITS_MC = 100_000_000;

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

const disconnects = gatewaySuite('client disconnects');

disconnects('a client that goes away before the first byte of a stream: upstream aborted, input charged, status aborted', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'hang' });
  const controller = new AbortController();
  const pending = h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 100, stream: true }, { signal: controller.signal }).catch((error: Error) => error);
  await waitFor(() => h.fake.requests.length === 1, 'the upstream call');
  const hold = await h.db.selectFrom('holds').select(['request_id', 'status']).where('user_id', '=', account.userId).executeTakeFirstOrThrow();
  assert.is(hold.status, 'pending');
  controller.abort();
  assert.is(((await pending) as Error).name, 'AbortError');
  await h.fake.waitForAborted(1);
  await assertAborted(h, hold.request_id, account.userId, [0]);
});

/** Sends a non-streamed call the fake holds open, and leaves once tokentab has placed its hold; resolves once tokentab has seen the client go. */
async function leaveWhileUpstreamWorks(h: GatewayHarness, key: string, userId: number): Promise<string> {
  const controller = new AbortController();
  const pending = h.post('/v1/chat/completions', key, { model: 'gpt-4o-mini', messages, max_tokens: 4_000 }, { signal: controller.signal }).catch((error: Error) => error);
  await waitFor(() => h.fake.held === 1, 'the upstream call');
  const hold = await h.db.selectFrom('holds').select(['request_id', 'status']).where('user_id', '=', userId).executeTakeFirstOrThrow();
  assert.is(hold.status, 'pending');
  const goneBefore = h.clientsGone();
  controller.abort();
  assert.is(((await pending) as Error).name, 'AbortError');
  await waitFor(() => h.clientsGone() === goneBefore + 1, 'tokentab to see the client leave');
  return hold.request_id;
}

/** The usage detail page's "Charged for" sentence, as the call's owner sees it (a session made directly). */
async function chargedForOnPage(h: GatewayHarness, userId: number, requestId: string): Promise<string> {
  const page = await fetch(`${h.url}/credits/usage/${requestId}`, { headers: { cookie: await sessionCookie(h, userId) } });
  assert.is(page.status, 200);
  return parse(await page.text()).querySelector('.usage-detail .charge-basis')?.textContent ?? '';
}

disconnects('a non-streamed call whose client leaves while the upstream works: not aborted upstream, charged exactly the reported usage, aborted, not estimated', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  // Reported counts that differ from what tokentab counts, so the charge can only come from the upstream.
  h.fake.setBehaviour({ kind: 'held', usage: { prompt_tokens: 1_234, completion_tokens: 3_210, cached_tokens: 200 } });
  const requestId = await leaveWhileUpstreamWorks(h, account.key, account.userId);
  assert.is(h.fake.held, 1, 'the upstream request is still open');
  assert.is(h.fake.aborted, 0, 'nothing aborted it');

  assert.is(h.fake.release(), 1);
  await waitFor(() => h.gateway.inFlight.size === 0, 'the call to settle');
  assert.is(h.fake.aborted, 0, 'the upstream finished its answer');
  const row = await usageRow(h, requestId);
  assert.is(row.status, 'aborted');
  assert.is(row.estimated, 0);
  assert.equal([row.input_tokens, row.cached_input_tokens, row.output_tokens], [1_234, 200, 3_210]);
  // (1,234 − 200) × 2,400 + 200 × 1,200 + 3,210 × 9,600 = 33,537,600 µc → 33,538 mc.
  assert.is(row.charged_mc, 33_538);
  assert.is(row.charged_mc, costMc({ inputTokens: 1_234, cachedInputTokens: 200, outputTokens: 3_210 }, await rateOf(h.db, 'gpt-4o-mini'), 'exact'));
  assert.is(row.shortfall_mc, 0);
  assert.match(row.upstream_response_id ?? '', /^chatcmpl-/);
  const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', requestId).executeTakeFirstOrThrow();
  assert.is(hold.status, 'settled');
  const entries = await usageEntries(h, account.userId);
  assert.equal(entries.map((entry) => entry.amount_mc), [-33_538]);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC - 33_538, held_mc: 0 });

  const record = (await (await fetch(`${h.url}/v1/usage/${requestId}`, { headers: { authorization: `Bearer ${account.key}` } })).json()) as Record<string, unknown>;
  assert.is(record.status, 'aborted');
  assert.is(record.estimated, false);
  assert.is(record.chargedMillicredits, 33_538);
  assert.is(record.chargedFor, 'The client left before the answer arrived; the answer was completed upstream and charged as the upstream reported.');
  assert.is(await chargedForOnPage(h, account.userId, requestId), record.chargedFor);
});

disconnects('a non-streamed call whose client leaves, answered later without usage: charged the input and the whole answer counted here, aborted, estimated', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'held', usage: null });
  const requestId = await leaveWhileUpstreamWorks(h, account.key, account.userId);
  h.fake.release();
  await waitFor(() => h.gateway.inFlight.size === 0, 'the call to settle');
  assert.is(h.fake.aborted, 0);
  await assertAborted(h, requestId, account.userId, [countTextTokens(FAKE_DEFAULT_TEXT)]);
  assert.match(await chargedForOnPage(h, account.userId, requestId), /^Ended early .* charged the input in full and the output received, counted here\.$/);
});

disconnects('a non-streamed call whose client left still ends at UPSTREAM_TIMEOUT_SECONDS: upstream aborted then, nothing charged', async ({ h }) => {
  // A harness of its own with a 1 s upstream deadline, on the suite's fake.
  const quick = await startGatewayHarness({ fake: h.fake, env: { UPSTREAM_TIMEOUT_SECONDS: '1' } });
  try {
    const account = await quick.account(HUNDRED_CREDITS_MC);
    h.fake.setBehaviour({ kind: 'held', usage: null });
    const requestId = await leaveWhileUpstreamWorks(quick, account.key, account.userId);
    await h.fake.waitForAborted(1, 5_000);
    await waitFor(() => quick.gateway.inFlight.size === 0, 'the call to end');
    const row = await usageRow(quick, requestId);
    assert.is(row.status, 'upstream_error');
    assert.is(row.charged_mc, 0);
    const hold = await quick.db.selectFrom('holds').select('status').where('request_id', '=', requestId).executeTakeFirstOrThrow();
    assert.is(hold.status, 'voided');
    assert.equal(await balanceOf(quick, account.userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
    await assertBooksClean(quick);
  } finally {
    await quick.closeAll();
  }
});

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
