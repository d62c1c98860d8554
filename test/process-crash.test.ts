// Three real server processes (src/server.ts) on one database behind the official openai SDK, the
// fake upstream streaming slowly: one is SIGKILLed with streamed calls in flight. The other two keep
// serving, the dead one's holds are given back once its process lease lapses (seconds, not
// HOLD_TTL_SECONDS), every call a client saw finish is charged, and audit is clean.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import { audit } from '../src/audit.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { startFakeOpenAIUpstream } from './fakes/openai-upstream.ts';
import { waitFor } from './helpers/assert.ts';
import { freshDb, makeUser } from './helpers/db.ts';
import { DEMO_ENV, startServer, type RunningServer } from './helpers/server.ts';

const LEASE_SECONDS = 2;
const crash = suite('SIGKILL of one of 3 server processes');

crash('one of 3 servers SIGKILLed under streamed calls: the other two keep serving, its holds come back within seconds, nothing committed is lost, audit clean', async () => {
  const t = await freshDb();
  const upstream = await startFakeOpenAIUpstream();
  // About 1.2 s a stream: calls are always in flight on every server.
  upstream.setBehaviour({ kind: 'ok', text: 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty', chunkDelayMs: 60 });
  const servers: RunningServer[] = [];
  try {
    const user = await makeUser(t.db, t.clock);
    const { key } = await createApiKey(t.db, t.clock, user.id, 'load');
    await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 50_000_000, reason: 'load' });
    const env = { ...DEMO_ENV, DATABASE_URL: t.databaseUrl, OPENAI_API_KEY: 'sk-test-upstream', OPENAI_BASE_URL: `${upstream.url}/v1`, PROCESS_LEASE_SECONDS: String(LEASE_SECONDS) };
    // Each kept as it comes up, so the finally stops every one that did, whichever failed.
    await Promise.all([0, 1, 2].map(async () => servers.push(await startServer(env))));
    const [first, doomed, third] = servers as [RunningServer, RunningServer, RunningServer];
    const clientOf = (server: RunningServer) => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });

    /** One streamed call to the end: true when it ended with its usage chunk. */
    const streamed = async (client: OpenAI, onFirstChunk = () => {}) => {
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count' }], stream: true, stream_options: { include_usage: true } });
      let chunks = 0;
      let usage = false;
      for await (const chunk of stream) {
        if (chunks++ === 0) onFirstChunk();
        if (chunk.usage) usage = true;
      }
      return usage;
    };

    // The survivors' load: 3 lanes each, call after call, until told to stop.
    let loading = true;
    const finished = { calls: 0, failures: [] as string[] };
    const lanes = [first, third].flatMap((server) =>
      [0, 1, 2].map(async () => {
        const client = clientOf(server);
        while (loading) {
          try {
            if (await streamed(client)) finished.calls++;
            else finished.failures.push('a stream without usage');
          } catch (error) {
            finished.failures.push(String(error));
          }
        }
      }),
    );

    // Four streams on the doomed server, each past its first chunk (so held) when it is killed.
    let started = 0;
    const doomedCalls = [0, 1, 2, 3].map(() => streamed(clientOf(doomed), () => started++).then(() => 'finished', () => 'cut'));
    await waitFor(() => started === 4, 'the doomed server streaming 4 calls', 10_000);
    const leases = await t.db.selectFrom('process_leases').selectAll().execute();
    const doomedLease = leases.find((lease) => lease.holder.includes(`:${doomed.child.pid}:`));
    assert.ok(doomedLease, `the doomed server's lease among ${JSON.stringify(leases.map((l) => l.holder))}`);
    const heldByDoomed = await t.db.selectFrom('holds').select(['id', 'status']).where('lease_id', '=', doomedLease!.id).execute();
    assert.equal(heldByDoomed.map((hold) => hold.status), ['pending', 'pending', 'pending', 'pending'], 'its 4 calls hold under its lease');
    assert.ok((await walletSummary(t.db, user.id)).heldCalls >= 4);

    const killedAtMs = Date.now();
    await doomed.stop('SIGKILL');
    assert.equal(await Promise.all(doomedCalls), ['cut', 'cut', 'cut', 'cut'], 'its clients see their streams cut');
    await waitFor(
      async () => (await t.db.selectFrom('holds').select('id').where('lease_id', '=', doomedLease!.id).where('status', '=', 'pending').execute()).length === 0,
      "the dead process's holds given back",
      15_000,
    );
    const releasedAfterMs = Date.now() - killedAtMs;
    // The lease lapses LEASE_SECONDS after its last renewal; the next renewal of a survivor gives its holds back.
    assert.ok(releasedAfterMs < (LEASE_SECONDS + 3) * 1000, `given back ${releasedAfterMs} ms after the kill (HOLD_TTL_SECONDS is 600)`);
    const ended = await t.db.selectFrom('holds').select('status').where('lease_id', '=', doomedLease!.id).execute();
    assert.equal(ended.map((hold) => hold.status), ['expired', 'expired', 'expired', 'expired']);
    const leaseEndedAtMs = (await t.db.selectFrom('process_leases').select('ended_at_ms').where('id', '=', doomedLease!.id).executeTakeFirstOrThrow()).ended_at_ms;
    assert.ok(leaseEndedAtMs !== null, 'its lease is ended');

    // The survivors served throughout, and still do.
    const servedBefore = finished.calls;
    await waitFor(() => finished.calls >= servedBefore + 6, 'the two survivors answering after the kill', 15_000);
    loading = false;
    await Promise.all(lanes);
    assert.equal(finished.failures, [], 'no call to a surviving server failed');

    // Every call a client saw finish is charged: one ok usage row and one usage entry each (the dead
    // server's four were never settled: their holds expired and nothing was charged for them).
    await waitFor(async () => (await walletSummary(t.db, user.id)).heldCalls === 0, 'every hold ended', 10_000);
    const usage = await t.db.selectFrom('usage').select(['status', 'charged_mc']).execute();
    assert.is(usage.filter((row) => row.status === 'ok').length, finished.calls, `${finished.calls} calls finished, ${usage.length} usage rows`);
    assert.is(usage.length, finished.calls);
    const entries = await t.db.selectFrom('ledger_entries').select('amount_mc').where('type', '=', 'usage').execute();
    assert.is(entries.length, finished.calls);
    const wallet = await walletSummary(t.db, user.id);
    assert.is(wallet.heldMc, 0);
    assert.is(wallet.balanceMc, 50_000_000 + entries.reduce((sum, entry) => sum + entry.amount_mc, 0));
    assert.equal(await audit(t.db), []);
  } finally {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await upstream.close();
    await t.close();
  }
});

crash.run();
