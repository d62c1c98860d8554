// SIGTERM on the real server process: it stops accepting, lets a call in flight finish, stops one
// that runs past 10 s and settles it as aborted, and exits leaving no hold for the sweeper.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { systemClock } from '../src/clock.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { countChatInputTokens, countTextTokens } from '../src/gateway/tokens.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { costMc } from '../src/pricing/cost.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { startFakeOpenAIUpstream } from './fakes/openai-upstream.ts';
import { rateOf } from './helpers/db.ts';
import { emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';
import { killAll, startWorker } from './helpers/processes.ts';

const messages = [{ role: 'user' as const, content: 'Tell me a long story.' }];

/** A connection of its own (no keep-alive pool), so "refused" means the listener is closed. */
function freshConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/healthz`, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('SIGTERM: no new connections, a running call finishes, one past 10 s is stopped and settled as aborted, no hold left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-drain-'));
  const databaseUrl = await emptyDatabaseUrl(dir, 'drain.db');
  const db = openTestDatabase(databaseUrl);
  const fake = await startFakeOpenAIUpstream();
  try {
    await migrateToLatest(db);
    await seedDefaults(db, systemClock);
    const user = await createUser(db, systemClock, { email: 'drain@example.com', passwordHash: 'x' });
    await grantCredits(db, systemClock, { userId: user.id, amountMc: 100_000_000, reason: 'test' });
    const { key } = await createApiKey(db, systemClock, user.id, 'drain');

    const server = startWorker('src/server.ts', [], {
      PORT: '0',
      DATABASE_URL: databaseUrl,
      OPENAI_API_KEY: 'sk-test-drain-operator',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      PAYMENTS: 'off',
    });
    const url = (await server.waitFor('tokentab listening on ')).split(' ')[0]!;
    const client = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });

    // A: a stream that takes about 1.2 s; B: a call the upstream never answers.
    fake.queueBehaviours({ kind: 'slow-stream', chunks: 8, chunkDelayMs: 150 }, { kind: 'hang' });
    const streamA = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 200, stream: true }).withResponse();
    const iterator = streamA.data[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.not.ok(first.done);
    const callB = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages, max_tokens: 200 }),
    }).catch((error: Error) => error);
    while (fake.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));

    const stoppedAtMs = Date.now();
    server.child.kill('SIGTERM');
    await server.waitFor('SIGTERM: no longer accepting connections');
    await assertRefused(url);

    // A runs to its end, [DONE] included (the SDK's iterator ends normally).
    let text = '';
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta.content ?? '';
    const full = Array.from({ length: 8 }, (_, index) => `Piece ${index + 1}. `).join('');
    assert.ok(full.endsWith(text) && text.length > 0, 'the rest of the stream arrived');

    // B is stopped after the 10 s grace and told so.
    const answerB = await callB;
    if (!(answerB instanceof Response)) throw answerB;
    const waitedMs = Date.now() - stoppedAtMs;
    assert.is(answerB.status, 503);
    assert.is(((await answerB.json()) as { error: { code: string } }).error.code, 'server_shutting_down');
    assert.ok(waitedMs >= 9_500 && waitedMs < 14_000, `stopped after ${waitedMs} ms`);
    assert.match(await server.waitFor('drained: '), /^1 calls finished, 1 stopped and settled as aborted$/);
    assert.is(await server.exited, 0);

    const rows = await db.selectFrom('usage').selectAll().orderBy('id').execute();
    assert.is(rows.length, 2);
    const [rowA, rowB] = [rows.find((row) => row.request_id === streamA.response.headers.get('x-request-id'))!, rows.find((row) => row.request_id === answerB.headers.get('x-request-id'))!];
    assert.is(rowA.status, 'ok');
    assert.is(rowA.estimated, 0);
    assert.is(rowA.output_tokens, countTextTokens(full));
    assert.is(rowB.status, 'aborted');
    assert.is(rowB.estimated, 1);
    assert.is(rowB.output_tokens, 0);
    assert.is(rowB.charged_mc, costMc({ inputTokens: await countChatInputTokens({ messages }), cachedInputTokens: 0, outputTokens: 0 }, await rateOf(db, 'gpt-4o-mini'), 'exact'));
    const holds = await db.selectFrom('holds').select('status').execute();
    assert.equal(holds.map((hold) => hold.status), ['settled', 'settled'], 'no hold left for the sweeper');
    const wallet = await db.selectFrom('wallets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    assert.is(wallet.held_mc, 0);
    assert.equal(await audit(db), []);
    await fake.waitForAborted(1);
  } finally {
    killAll();
    await fake.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function assertRefused(url: string) {
  try {
    await freshConnection(url);
  } catch (error) {
    // Refused, or reset when it reached the backlog just as the listener closed: never served.
    assert.ok(['ECONNREFUSED', 'ECONNRESET'].includes((error as NodeJS.ErrnoException).code ?? ''), `refused, got ${(error as NodeJS.ErrnoException).code}`);
    return;
  }
  assert.unreachable('a new connection after SIGTERM should be refused');
}

test.run();
