// The gateway over real HTTP for tests: tokentab served on a real port with @hono/node-server, the
// fake OpenAI upstream behind it, and users with keys whose official openai SDK clients point at it.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import OpenAI from 'openai';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/app.tsx';
import { createHasher } from '../../src/auth/hasher.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { SqliteSynchronous } from '../../src/config.ts';
import { createContext } from '../../src/context.ts';
import type { Gateway } from '../../src/gateway/gateway.ts';
import { createApiKey } from '../../src/keys/keys.ts';
import { audit } from '../../src/audit.ts';
import { grantCredits } from '../../src/ledger/credits.ts';
import { startFakeOpenAIUpstream, type FakeOpenAIUpstream } from '../fakes/openai-upstream.ts';
import { cheapCost, freshDb, makeUser, type TestDb } from './db.ts';

export const OPERATOR_KEY = 'sk-test-operator-key-0123456789abcdef';

export interface Account {
  userId: number;
  apiKeyId: number;
  key: string;
  /** The official SDK pointed at tokentab with this account's key. */
  client: OpenAI;
}

export interface GatewayHarness extends TestDb {
  config: Config;
  gateway: Gateway;
  fake: FakeOpenAIUpstream;
  /** http://127.0.0.1:PORT of tokentab */
  url: string;
  logLines: string[];
  /** How many responses tokentab saw their client leave before they finished (what the gateway's clientSignal reacts to). */
  clientsGone(): number;
  account(creditsMc: number, name?: string): Promise<Account>;
  /** A raw HTTP call to tokentab (for headers, bodies the SDK would refuse, or aborting by hand). */
  post(path: string, key: string, body: unknown, init?: RequestInit): Promise<Response>;
  closeAll(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  synchronous?: SqliteSynchronous;
  /** Reuse one fake across harnesses (a suite's before). */
  fake?: FakeOpenAIUpstream;
}

export async function startGatewayHarness(options: HarnessOptions = {}): Promise<GatewayHarness> {
  const t = await freshDb(options.synchronous ?? 'normal');
  const fake = options.fake ?? (await startFakeOpenAIUpstream());
  const config = loadConfig({ PORT: '3000', OPENAI_API_KEY: OPERATOR_KEY, OPENAI_BASE_URL: `${fake.url}/v1`, PAYMENTS: 'off', ...(options.env ?? {}) });
  const logLines: string[] = [];
  const log = (line: string) => logLines.push(line);
  const ctx = createContext(config, { db: t.db, clock: t.clock, hasher: createHasher(cheapCost), log });
  const { gateway } = ctx;
  const app = createApp(ctx);
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started as Server));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Registered on every request before the route runs, so by the time a test sees the count move,
  // the route's own 'close' listener (clientGoneSignal) has run too: both fire in one 'close' emit.
  let clientsGone = 0;
  server.on('request', (_request, response) => {
    response.once('close', () => {
      if (!response.writableFinished) clientsGone++;
    });
  });
  let accounts = 0;
  return {
    ...t,
    config,
    gateway,
    fake,
    url,
    logLines,
    clientsGone: () => clientsGone,
    async account(creditsMc, name = `account ${++accounts}`) {
      const user = await makeUser(t.db, t.clock);
      if (creditsMc > 0) await grantCredits(t.db, t.clock, { userId: user.id, amountMc: creditsMc, reason: 'test' });
      const { key, apiKey } = await createApiKey(t.db, t.clock, user.id, name);
      return { userId: user.id, apiKeyId: apiKey.id, key, client: new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 }) };
    },
    post(path, key, body, init = {}) {
      return fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
      });
    },
    async closeAll() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (!options.fake) await fake.close();
      await t.close();
    },
  };
}

/**
 * A uvu suite whose tests share one harness: started before the first test, the fake upstream reset
 * before each, the books checked after each (audit clean, no hold pending), everything closed at the end.
 */
export function gatewaySuite(name: string, options: HarnessOptions = {}) {
  const tests = suite<{ h: GatewayHarness }>(name);
  tests.before(async (context) => {
    context.h = await startGatewayHarness(options);
  });
  tests.before.each(({ h }) => h.fake.reset());
  tests.after.each(async ({ h }) => assertBooksClean(h));
  tests.after(async ({ h }) => h.closeAll());
  return tests;
}

/** The ledger's invariants (docs/architecture.md), plus: no hold left open, every settled hold charged once. */
export async function assertBooksClean(h: TestDb): Promise<void> {
  assert.equal(await audit(h.db), [], 'audit is clean');
  const pending = await h.db.selectFrom('holds').select(['request_id', 'status']).where('status', '=', 'pending').execute();
  assert.equal(pending, [], 'no hold left pending');
}

/** Resolves once the call with this request id has a usage row (a stream settles just before its end). */
export async function usageRow(h: TestDb, requestId: string, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await h.db.selectFrom('usage').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`no usage row for ${requestId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function onlyUsageRow(h: TestDb) {
  const rows = await h.db.selectFrom('usage').selectAll().execute();
  assert.is(rows.length, 1, 'one usage row');
  return rows[0]!;
}

export async function usageEntries(h: TestDb, userId?: number) {
  let query = h.db.selectFrom('ledger_entries').selectAll().where('type', '=', 'usage');
  if (userId !== undefined) query = query.where('user_id', '=', userId);
  return query.orderBy('id').execute();
}

export async function balanceOf(h: TestDb, userId: number) {
  return h.db.selectFrom('wallets').select(['balance_mc', 'held_mc']).where('user_id', '=', userId).executeTakeFirstOrThrow();
}
