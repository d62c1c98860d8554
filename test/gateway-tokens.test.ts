// Counting in the gateway over real HTTP: estimated output never beyond the output limit, and a
// client that leaves while its huge prompt is being counted is charged nothing.
import * as assert from 'uvu/assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { costMc } from '../src/pricing/cost.ts';
import { rateOf } from './helpers/db.ts';
import { balanceOf, usageRow, gatewaySuite } from './helpers/gateway.ts';
import { run } from './helpers/texts.ts';

const tokens = gatewaySuite('token counts in the gateway');

tokens('an upstream that reports no usage is charged for its output as counted here, never beyond the output limit', async ({ h }) => {
  const account = await h.account(10_000_000);
  // One unbroken run: counted as its bytes (5,000), above what 100 output tokens can hold.
  h.fake.setBehaviour({ kind: 'no-usage', text: run('a', 5_000) });
  const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say a' }], max_tokens: 100 });
  assert.is(response.status, 200);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.estimated, 1);
  assert.is(row.output_tokens, 100, 'the upstream writes at most max_tokens');
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  assert.is(row.charged_mc, costMc({ inputTokens: row.input_tokens, cachedInputTokens: 0, outputTokens: 100 }, rate, 'exact'));
  assert.ok(row.charged_mc <= row.hold_mc);
  assert.is(row.shortfall_mc, 0);
});

tokens('a client that leaves while its 4 MB prompt is being counted is charged nothing, and the upstream never sees the call', async ({ h }) => {
  const account = await h.account(100_000_000);
  // Words of 200 random letters: the slowest ordinary text to count (seconds for 4 MB).
  const words: string[] = [];
  for (let length = 0; length < 3_900_000; length += 201) words.push(Array.from({ length: 200 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join(''));
  const controller = new AbortController();
  const call = h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: words.join(' ') }], max_tokens: 10 }, { signal: controller.signal });
  // Leave once the server has the call (in flight), well before a count of seconds is done.
  for (let waited = 0; h.gateway.inFlight.size === 0; waited += 5) {
    if (waited > 10_000) throw new Error('the call never arrived');
    await sleep(5);
  }
  await sleep(200);
  controller.abort();
  await call.catch(() => {});
  for (let waited = 0; h.gateway.inFlight.size > 0; waited += 10) {
    if (waited > 30_000) throw new Error('the call never ended');
    await sleep(10);
  }
  assert.is(h.fake.requests.length, 0, 'the upstream never saw the call');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: 100_000_000, held_mc: 0 });
  assert.equal(await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute(), [], 'no hold was placed');
  assert.equal(await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute(), []);
});

tokens.run();
