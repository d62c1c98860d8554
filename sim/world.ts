// A trial's world: one fresh database (test/helpers/db.ts, SQLite or PostgreSQL by TEST_BACKEND), the
// fake OpenAI upstream and the Stripe fake in this process, the app as real OS processes (src/server.ts)
// that can be killed and restarted, and the users with their keys and signed-in sessions.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { systemClock } from '../src/clock.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createContext } from '../src/context.ts';
import type { BillingDeps } from '../src/billing/deps.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { freshDb, makeUser, type TestDb } from '../test/helpers/db.ts';
import { freePort } from '../test/helpers/postgres.ts';
import { sessionCookie } from '../test/helpers/signed-in.ts';
import { WEBHOOK_SECRET } from '../test/helpers/billing.ts';
import { startFakeOpenAIUpstream, type FakeOpenAIUpstream } from '../test/fakes/openai-upstream.ts';
import { startStripeFake, type StripeFake } from '../test/fakes/stripe/server.ts';

/**
 * The app processes run what `npm start` runs: the built JavaScript (scripts/build.mjs, rebuilt here
 * when a source is newer). Loading the TypeScript through tsx instead cost each start about a second
 * more CPU, and a trial starts three to five of them.
 */
execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
const SERVER_ENTRY = ['dist/server.js'];

export interface SimUser {
  userId: number;
  apiKeyId: number;
  key: string;
  /** Cookie header of a session made for the user; valid on every process (one database). */
  cookie: string;
}

/** One app process slot: the OS process comes and goes (kill, restart), each time on a port of its own. */
export interface AppProcess {
  index: number;
  port: number;
  url: string;
  child: ChildProcess | null;
  /** The end of what the current process printed. */
  output: string;
}

export interface World {
  t: TestDb;
  upstream: FakeOpenAIUpstream;
  stripe: StripeFake;
  /** The driver's own billing (reconcile runs here, as the CLI's would). */
  billing: BillingDeps;
  processes: AppProcess[];
  users: SimUser[];
  /** A live process for a call meant for `index` (the next live one when it is down), as a proxy would. */
  liveProcess(index: number): AppProcess | null;
  kill(index: number): Promise<void>;
  restart(index: number): Promise<void>;
  /** Stops every process (SIGTERM: calls in flight drain and settle), then the fakes and the database. */
  stopProcesses(): Promise<void>;
  close(): Promise<void>;
}

const STRIPE_SECRET_KEY = 'sk_test_tokentab_sim';
const OPERATOR_KEY = 'sk-sim-operator-key-0123456789abcdef';

export async function startWorld(processCount: number, grantsMc: number[]): Promise<World> {
  const t = await freshDb();
  const upstream = await startFakeOpenAIUpstream();
  const stripe = await startStripeFake();
  const baseEnv: Record<string, string> = {
    DATABASE_URL: t.databaseUrl,
    DATABASE_POOL_SIZE: '4',
    SQLITE_SYNCHRONOUS: 'normal',
    OPENAI_API_KEY: OPERATOR_KEY,
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    // A hanging upstream is a timeout within a trial (the bound is 1 s at least).
    UPSTREAM_TIMEOUT_SECONDS: '1',
    PAYMENTS: 'stripe',
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    PUBLIC_URL: '',
    SMTP_URL: '',
  };
  const driverConfig: Config = loadConfig({ ...baseEnv, PORT: '3000' });
  const ctx = createContext(driverConfig, { db: t.db, clock: systemClock, log: () => {} });

  const users: SimUser[] = [];
  for (const grantMc of grantsMc) {
    const user = await makeUser(t.db, systemClock);
    if (grantMc > 0) await grantCredits(t.db, systemClock, { userId: user.id, amountMc: grantMc, reason: 'sim' });
    const { key, apiKey } = await createApiKey(t.db, systemClock, user.id, 'sim');
    // The cookie's name does not depend on the port while PUBLIC_URL is unset (http).
    const cookie = await sessionCookie({ db: t.db, clock: systemClock, config: driverConfig }, user.id);
    users.push({ userId: user.id, apiKeyId: apiKey.id, key, cookie });
  }

  const processes: AppProcess[] = Array.from({ length: processCount }, (_, index) => ({ index, port: 0, url: '', child: null, output: '' }));

  /**
   * Starts the slot's process on a free port and resolves once it says it listens (its own line, so
   * no other server that took the port can answer for it); a port taken between the pick and the
   * listen (other programs share the machine) is picked again.
   */
  async function launch(slot: AppProcess): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      slot.port = await freePort();
      slot.url = `http://127.0.0.1:${slot.port}`;
      slot.output = '';
      const child = spawn(process.execPath, SERVER_ENTRY, {
        env: { ...process.env, ...baseEnv, PORT: String(slot.port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      slot.child = child;
      const listening = await new Promise<boolean>((resolve) => {
        // Generous: on a loaded machine a process takes seconds to load the app.
        const timer = setTimeout(() => resolve(false), 60_000);
        const keep = (chunk: Buffer) => {
          slot.output = (slot.output + chunk).slice(-4_000);
          if (slot.output.includes('tokentab listening on')) {
            clearTimeout(timer);
            resolve(true);
          }
        };
        child.stdout!.on('data', keep);
        child.stderr!.on('data', keep);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (listening) return;
      if (child.exitCode === null) child.kill('SIGKILL');
      if (!slot.output.includes('EADDRINUSE')) break;
    }
    throw new Error(`process ${slot.index} did not start: ${slot.output.slice(-800)}`);
  }

  async function stopChild(slot: AppProcess, signal: NodeJS.Signals): Promise<void> {
    const child = slot.child;
    slot.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  await Promise.all(processes.map((slot) => launch(slot)));

  let stopped = false;
  const live = new Set<number>(processes.map((slot) => slot.index));
  return {
    t,
    upstream,
    stripe,
    billing: ctx.billing!,
    processes,
    users,
    liveProcess(index) {
      for (let step = 0; step < processes.length; step++) {
        const candidate = (index + step) % processes.length;
        if (live.has(candidate)) return processes[candidate]!;
      }
      return null;
    },
    async kill(index) {
      live.delete(index);
      await stopChild(processes[index]!, 'SIGKILL');
    },
    async restart(index) {
      if (stopped) return;
      await launch(processes[index]!);
      live.add(index);
    },
    async stopProcesses() {
      stopped = true;
      live.clear();
      await Promise.all(processes.map((slot) => stopChild(slot, 'SIGTERM')));
    },
    async close() {
      stopped = true;
      await Promise.all(processes.map((slot) => stopChild(slot, 'SIGKILL')));
      await upstream.close();
      await stripe.close();
      await t.close();
    },
  };
}
