// bench:multi — several app processes on one PostgreSQL against one process on SQLite, on the same
// machine and in the same run. Both start from one install (made on SQLite, moved to PostgreSQL with
// db:copy's own function, which is timed too); PostgreSQL is a throwaway server (test/helpers/postgres.ts)
// with its default durability, SQLite runs with SQLITE_SYNCHRONOUS=full: every answered charge is on
// disk on both. (a) The real server (src/server.ts, the demo model) called over HTTP by 1, 10 and 1,000
// users, 32 calls in flight, spread round robin over the three PostgreSQL processes as nginx would:
// calls/s, p50/p99, transactions and round trips per call (the processes' /metrics) and deadlocks (each one a group rolled back and run again
// by src/ledger/group-commit.ts, never shown to a client). (b) One busy wallet through the ledger,
// from 3 processes (PostgreSQL) or 1 (SQLite), with the gateway's group commit and with one
// transaction per hold and per settle. At the end: every answered call charged once, nothing held,
// no wallet below zero, audit clean on both. Figures go to bench/RESULTS.md.
//   BENCH_SECONDS (default 5): each measurement; BENCH_USERS (1000): the largest level; BENCH_DURABLE=off:
//   PostgreSQL with fsync off and SQLite at synchronous=normal (both then survive a crash of the process,
//   not of the machine), to see what the disk's flushes cost.
import { Agent } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { audit } from '../src/audit.ts';
import { systemClock } from '../src/clock.ts';
import { loadDatabaseConfig } from '../src/config.ts';
import { openDatabase, openSqlite, type DB } from '../src/db/connect.ts';
import { copySqliteToPostgres } from '../src/db/copy-to-postgres.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { installLedgerPolicy } from '../src/ledger/policy.ts';
import { seedDefaults } from '../src/seed.ts';
import { spendingPolicy } from '../src/spending-policy/policy.ts';
import { createUser } from '../src/users/users.ts';
import { createDatabase, startThrowawayPostgres } from '../test/helpers/postgres.ts';
import { DEMO_ENV, startServer, type RunningServer } from '../test/helpers/server.ts';
import { postChat } from './chat-calls.ts';
import { appendResults, machine, percentile } from './machine.ts';

// The install's credits are granted through the ledger with the app's policy, as in the server.
installLedgerPolicy(spendingPolicy);

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const MAX_USERS = Number(process.env.BENCH_USERS ?? 1_000);
const LEVELS = [1, 10, MAX_USERS];
/** Calls in flight: the per-user limit (MAX_IN_FLIGHT_PER_USER, 32) over the one user's 4 keys of 10 each (the per-key default). */
const CONCURRENCY = 32;
const PG_PROCESSES = 3;
/** Pairs in flight per ledger process: 48 on the one wallet either way. */
const LEDGER_LOOPS = { postgres: 16, sqlite: 48 };
const GRANT_MC = 1_000_000_000_000;
const DURABLE = process.env.BENCH_DURABLE !== 'off';
const SYNCHRONOUS = DURABLE ? 'full' : 'normal';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
console.log(`bench:multi on ${machine()}; load average ${loadavg()[0]!.toFixed(2)}; ${SECONDS} s per measurement`);
const loadAtStart = loadavg()[0]!;

const dir = mkdtempSync(join(tmpdir(), 'tokentab-bench-multi-'));
const sqlitePath = join(dir, 'bench.db');
const postgres = await startThrowawayPostgres({ durable: DURABLE });
const servers: RunningServer[] = [];
const ledgerWorkers: ChildProcess[] = [];

/** The install: MAX_USERS users with a key each (the first with 4), and a busy wallet for (b). */
async function makeInstall(db: DB): Promise<{ keysByUser: string[][]; walletUserId: number }> {
  await migrateToLatest(db);
  await seedDefaults(db, systemClock);
  const keysByUser: string[][] = [];
  for (let u = 0; u < MAX_USERS; u++) {
    const user = await createUser(db, systemClock, { email: `bench${u}@example.com`, passwordHash: 'x' });
    await grantCredits(db, systemClock, { userId: user.id, amountMc: GRANT_MC, reason: 'bench' });
    const keys: string[] = [];
    for (let k = 0; k < (u === 0 ? 4 : 1); k++) keys.push((await createApiKey(db, systemClock, user.id, `bench ${k}`)).key);
    keysByUser.push(keys);
  }
  const wallet = await createUser(db, systemClock, { email: 'busy-wallet@example.com', passwordHash: 'x' });
  await grantCredits(db, systemClock, { userId: wallet.id, amountMc: GRANT_MC, reason: 'bench' });
  return { keysByUser, walletUserId: wallet.id };
}

interface Backend {
  name: 'sqlite' | 'postgres';
  url: string;
  ports: number[];
  agents: Agent[];
  db: DB;
  /** 200 answers and HTTP failures over the run, and hold → settle pairs the ledger processes made. */
  answered: number;
  failed: number;
  pairs: number;
}

interface Measured {
  callsPerS: number;
  p50: number;
  p99: number;
  failures: number;
  transactionsPerCall: number | null;
  /** Statements the app processes sent to PostgreSQL per call (their /metrics): each one round trip. */
  roundTripsPerCall: number | null;
  deadlocks: number | null;
}

/** A token for the PostgreSQL processes' /metrics, read for their round trips. */
const METRICS_TOKEN = 'bench-multi-metrics-token';

/** Round trips to PostgreSQL so far, summed over the app processes (tokentab_postgres_round_trips_total). */
async function serverRoundTrips(backend: Backend): Promise<number> {
  let total = 0;
  for (const port of backend.ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    total += Number(/^tokentab_postgres_round_trips_total (\d+)/m.exec(text)?.[1] ?? NaN);
  }
  return total;
}

async function postgresCounters(db: DB): Promise<{ transactions: number; deadlocks: number }> {
  const { rows } = await sql<{ transactions: number; deadlocks: number }>`
    select xact_commit + xact_rollback as transactions, deadlocks from pg_stat_database where datname = current_database()`.execute(db);
  return rows[0]!;
}

/** Statistics are sent to the server's collector asynchronously; this waits until they have caught up. */
async function settledCounters(db: DB) {
  await new Promise((resolve) => setTimeout(resolve, 600));
  return postgresCounters(db);
}

async function measure(backend: Backend, keys: string[], seconds: number): Promise<Measured> {
  const before = backend.name === 'postgres' ? await settledCounters(backend.db) : null;
  const roundTripsBefore = backend.name === 'postgres' ? await serverRoundTrips(backend) : null;
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const untilMs = performance.now() + seconds * 1000;
  const startedMs = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < untilMs) {
        const n = next++;
        // Round robin over the processes, as nginx's default upstream does; keys in turn.
        const at = n % backend.ports.length;
        const result = await postChat(backend.ports[at]!, backend.agents[at]!, keys[n % keys.length]!);
        if (result.status === 200) {
          latencies.push(result.ms);
          backend.answered++;
        } else {
          failures++;
          backend.failed++;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - startedMs) / 1000;
  const roundTripsAfter = backend.name === 'postgres' ? await serverRoundTrips(backend) : null;
  const after = backend.name === 'postgres' ? await settledCounters(backend.db) : null;
  latencies.sort((a, b) => a - b);
  const calls = latencies.length + failures;
  return {
    callsPerS: latencies.length / elapsedS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures,
    transactionsPerCall: before && after ? (after.transactions - before.transactions) / calls : null,
    roundTripsPerCall: roundTripsBefore !== null && roundTripsAfter !== null ? (roundTripsAfter - roundTripsBefore) / calls : null,
    deadlocks: before && after ? after.deadlocks - before.deadlocks : null,
  };
}

/** p50 of 200 `select 1`, one after the other. */
async function selectOneMs(db: DB): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const startedMs = performance.now();
    await sql`select 1`.execute(db);
    times.push(performance.now() - startedMs);
  }
  return percentile(times.sort((a, b) => a - b), 50);
}

function startLedgerWorker(url: string, walletUserId: number): Promise<{ child: ChildProcess; next: () => Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./multi-ledger-worker.ts', import.meta.url).pathname, url, String(walletUserId), SYNCHRONOUS], { stdio: ['pipe', 'pipe', 'inherit'] });
  ledgerWorkers.push(child);
  const lines = createInterface({ input: child.stdout! });
  const queued: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : queued.push(line)));
  const next = () => (queued.length > 0 ? Promise.resolve(queued.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
  return next().then(() => ({ child, next }));
}

/** Hold → settle pairs per second on one wallet from every worker at once, and the failures any saw. */
async function busyWallet(backend: Backend, workers: { child: ChildProcess; next: () => Promise<string> }[], mode: 'grouped' | 'single') {
  const before = backend.name === 'postgres' ? await settledCounters(backend.db) : null;
  for (const worker of workers) worker.child.stdin!.write(`go ${mode} ${SECONDS} ${LEDGER_LOOPS[backend.name]}\n`);
  const done = await Promise.all(workers.map((worker) => worker.next()));
  const after = backend.name === 'postgres' ? await settledCounters(backend.db) : null;
  let pairs = 0;
  let failures = 0;
  let writes = 0;
  let commits = 0;
  let roundTrips = 0;
  const reasons: string[] = [];
  for (const line of done) {
    const [, p, f, w, c, r, ...reason] = line.split(' ');
    pairs += Number(p);
    failures += Number(f);
    writes += Number(w);
    commits += Number(c);
    roundTrips += Number(r);
    if (reason.length > 0) reasons.push(reason.join(' '));
  }
  backend.pairs += pairs;
  // The batchers' counts are cumulative and the grouped run comes first: its own figures.
  const groupSize = mode === 'grouped' && commits > 0 ? writes / commits : 1;
  return { pairsPerS: pairs / SECONDS, failures, reasons, groupSize, roundTripsPerPair: pairs > 0 ? roundTrips / pairs : 0, deadlocks: before && after ? after.deadlocks - before.deadlocks : null };
}

/** Every answered call and every pair charged once, nothing held, no wallet below zero, audit clean. */
async function books(backend: Backend): Promise<{ ok: boolean; text: string }> {
  const usage = await backend.db.selectFrom('usage').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'ok').executeTakeFirstOrThrow();
  const entries = await backend.db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<number>().as('n')).where('type', '=', 'usage').executeTakeFirstOrThrow();
  const pending = await backend.db.selectFrom('holds').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  const negative = await backend.db.selectFrom('wallets').select((eb) => eb.fn.countAll<number>().as('n')).where((eb) => eb.or([eb('balance_mc', '<', 0), eb('held_mc', '>', eb.ref('balance_mc'))])).executeTakeFirstOrThrow();
  const violations = await audit(backend.db);
  const charged = backend.answered + backend.pairs;
  const ok = Number(usage.n) === charged && Number(entries.n) === charged && Number(pending.n) === 0 && Number(negative.n) === 0 && violations.length === 0;
  return {
    ok,
    text: `${backend.answered} calls answered 200 + ${backend.pairs} ledger pairs = ${charged}; usage rows ${usage.n}, usage entries ${entries.n}; pending holds ${pending.n}; wallets overspent ${negative.n}; audit ${violations.length === 0 ? 'clean' : `${violations.length} violations`}`,
  };
}

try {
  // One install, made on SQLite and moved to PostgreSQL by db:copy's function.
  const setup = openSqlite(sqlitePath, 'normal');
  const { keysByUser, walletUserId } = await makeInstall(setup);
  const pgUrl = await createDatabase(postgres.url, 'bench');
  const pgDb = openDatabase(loadDatabaseConfig({ DATABASE_URL: pgUrl, DATABASE_POOL_SIZE: '2' }));
  await migrateToLatest(pgDb);
  const copyStarted = performance.now();
  const copied = await copySqliteToPostgres(setup, pgDb);
  const copyS = (performance.now() - copyStarted) / 1000;
  const copiedRows = copied.tables.reduce((sum, table) => sum + table.rows, 0);
  await setup.destroy();
  console.log(`[${elapsed()}] install: ${MAX_USERS} users; db:copy moved ${copiedRows} rows in ${copyS.toFixed(2)} s`);

  const env = { ...DEMO_ENV, SQLITE_SYNCHRONOUS: SYNCHRONOUS, SMTP_URL: '', METRICS_TOKEN };
  const sqliteServer = await startServer({ ...env, DATABASE_URL: `sqlite:${sqlitePath}` });
  servers.push(sqliteServer);
  for (let i = 0; i < PG_PROCESSES; i++) servers.push(await startServer({ ...env, DATABASE_URL: pgUrl }));
  const agent = () => new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const sqlite: Backend = { name: 'sqlite', url: `sqlite:${sqlitePath}`, ports: [sqliteServer.port], agents: [agent()], db: openSqlite(sqlitePath, SYNCHRONOUS), answered: 0, failed: 0, pairs: 0 };
  const pg: Backend = { name: 'postgres', url: pgUrl, ports: servers.slice(1).map((s) => s.port), agents: servers.slice(1).map(() => agent()), db: pgDb, answered: 0, failed: 0, pairs: 0 };
  console.log(`[${elapsed()}] servers up: 1 on SQLite, ${PG_PROCESSES} on PostgreSQL`);
  // What one statement costs from here at this moment (the machine is shared): every figure below is a few of these per call.
  const roundTripMs = { sqlite: await selectOneMs(sqlite.db), postgres: await selectOneMs(pg.db) };
  console.log(`[${elapsed()}] select 1: SQLite p50 ${roundTripMs.sqlite.toFixed(3)} ms, PostgreSQL p50 ${roundTripMs.postgres.toFixed(3)} ms`);

  // (a) Over HTTP, SQLite then PostgreSQL at each level, each after a second of warm-up.
  const rows: string[] = [];
  for (const users of LEVELS) {
    const keys = users === 1 ? keysByUser[0]! : keysByUser.slice(0, users).map((k) => k[0]!);
    const results = new Map<Backend, Measured>();
    for (const backend of [sqlite, pg]) {
      await measure(backend, keys, 1);
      results.set(backend, await measure(backend, keys, SECONDS));
    }
    const [s, p] = [results.get(sqlite)!, results.get(pg)!];
    console.log(
      `[${elapsed()}] ${users} users: SQLite ${s.callsPerS.toFixed(0)} calls/s p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)} ms; PostgreSQL ×${PG_PROCESSES} ${p.callsPerS.toFixed(0)} calls/s p50 ${p.p50.toFixed(1)} p99 ${p.p99.toFixed(1)} ms, ${p.transactionsPerCall!.toFixed(2)} transactions and ${p.roundTripsPerCall!.toFixed(2)} round trips a call, ${p.deadlocks} deadlocks; failures ${s.failures} / ${p.failures}`,
    );
    rows.push(
      `| ${users} | ${s.callsPerS.toFixed(0)} | ${p.callsPerS.toFixed(0)} | ${(p.callsPerS / s.callsPerS).toFixed(2)}× | ${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} | ${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} | ${p.transactionsPerCall!.toFixed(2)} | ${p.roundTripsPerCall!.toFixed(2)} | ${p.deadlocks} | ${s.failures} / ${p.failures} |`,
    );
  }

  // (b) One busy wallet through the ledger: 3 processes on PostgreSQL, 1 on SQLite.
  const workers = {
    sqlite: [await startLedgerWorker(sqlite.url, walletUserId)],
    postgres: await Promise.all(Array.from({ length: PG_PROCESSES }, () => startLedgerWorker(pg.url, walletUserId))),
  };
  const wallet: string[] = [];
  const busy = new Map<string, Awaited<ReturnType<typeof busyWallet>>>();
  for (const mode of ['grouped', 'single'] as const) {
    for (const backend of [sqlite, pg]) busy.set(`${backend.name} ${mode}`, await busyWallet(backend, workers[backend.name], mode));
    const [s, p] = [busy.get(`sqlite ${mode}`)!, busy.get(`postgres ${mode}`)!];
    console.log(`[${elapsed()}] one wallet, ${mode}: SQLite ${s.pairsPerS.toFixed(0)} pairs/s (${s.groupSize.toFixed(1)} writes a transaction), PostgreSQL ×${PG_PROCESSES} ${p.pairsPerS.toFixed(0)} pairs/s (${p.groupSize.toFixed(1)}, ${p.roundTripsPerPair.toFixed(2)} round trips a pair), ${p.deadlocks} deadlocks; failures ${s.failures} / ${p.failures} ${[...s.reasons, ...p.reasons].join('; ')}`);
    wallet.push(`| ${mode === 'grouped' ? 'grouped (the gateway\'s batchers)' : 'one transaction per hold and per settle'} | ${s.pairsPerS.toFixed(0)} (${s.groupSize.toFixed(1)}) | ${p.pairsPerS.toFixed(0)} (${p.groupSize.toFixed(1)}) | ${p.roundTripsPerPair.toFixed(2)} | ${(p.pairsPerS / s.pairsPerS).toFixed(2)}× | ${p.deadlocks} | ${s.failures} / ${p.failures} |`);
  }
  await Promise.all(
    [...workers.sqlite, ...workers.postgres].map(({ child }) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.write('exit\n');
      return exited;
    }),
  );
  const groupedGain = busy.get('postgres grouped')!.pairsPerS / busy.get('postgres single')!.pairsPerS;

  // Drain the servers (a clean stop settles everything), then check the books on both.
  for (const server of servers) await server.stop('SIGTERM');
  const checks = [await books(sqlite), await books(pg)];
  console.log(`[${elapsed()}] SQLite: ${checks[0]!.text}\n      PostgreSQL: ${checks[1]!.text}`);
  const clientFailures = sqlite.failed + pg.failed + [...busy.values()].reduce((sum, b) => sum + b.failures, 0);

  appendResults('bench:multi', [
    `${PG_PROCESSES} app processes (src/server.ts, the demo model) on one PostgreSQL (${postgres.binDir}, a throwaway server ${DURABLE ? 'with its default durability: fsync on; holds commit with synchronous_commit off, settles durably' : 'with fsync off (BENCH_DURABLE=off)'}) against 1 process on SQLite (SQLITE_SYNCHRONOUS=${SYNCHRONOUS}), on the same machine in the same run; the load generator, the processes and the database share its cores. ${CONCURRENCY} calls in flight, prompt of about 190 tokens, max_tokens 64, non-stream; calls to PostgreSQL go round robin over its ${PG_PROCESSES} processes. ${SECONDS} s per measurement after 1 s of warm-up. The install (${MAX_USERS} users with keys and credits) was made on SQLite and moved to PostgreSQL by db:copy's function: ${copiedRows} rows in ${copyS.toFixed(2)} s. Load average at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (the machine is shared); one \`select 1\` from the bench process took ${roundTripMs.sqlite.toFixed(3)} ms on SQLite and ${roundTripMs.postgres.toFixed(3)} ms on PostgreSQL (p50).`,
    '',
    `| users | SQLite calls/s | PostgreSQL ×${PG_PROCESSES} calls/s | ratio | SQLite p50 / p99, ms | PostgreSQL p50 / p99, ms | PostgreSQL transactions a call | PostgreSQL round trips a call | deadlocks (each retried whole) | client-visible failures SQLite / PostgreSQL |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `One busy wallet through the ledger (hold of 200 mc, then a settle of 200 input and 100 output tokens), 48 pairs in flight: ${PG_PROCESSES} processes × ${LEDGER_LOOPS.postgres} on PostgreSQL, 1 × ${LEDGER_LOOPS.sqlite} on SQLite. Grouping on PostgreSQL: ${groupedGain.toFixed(2)}× the pairs/s of one transaction each.`,
    '',
    `| one wallet | SQLite pairs/s (writes a transaction) | PostgreSQL ×${PG_PROCESSES} pairs/s (writes a transaction) | PostgreSQL round trips a pair | ratio | deadlocks (PostgreSQL) | failures SQLite / PostgreSQL |`,
    '|---|---|---|---|---|---|---|',
    ...wallet,
    '',
    `Books at the end, after a clean stop of every server: SQLite — ${checks[0]!.text}. PostgreSQL — ${checks[1]!.text}. Client-visible failures in all: ${clientFailures}. Goals: no overspend and audit clean ${checks.every((c) => c.ok) ? 'met' : 'NOT met'}; zero client-visible failures ${clientFailures === 0 ? 'met' : 'NOT met'}; one busy wallet ≥ 800 calls/s on PostgreSQL ${busy.get('postgres grouped')!.pairsPerS >= 800 ? 'met' : 'NOT met'} (grouped pairs/s).`,
  ]);
  if (!checks.every((c) => c.ok) || clientFailures > 0) process.exitCode = 1;
  await sqlite.db.destroy();
  await pgDb.destroy();
  for (const a of [...sqlite.agents, ...pg.agents]) a.destroy();
} finally {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  for (const worker of ledgerWorkers) if (worker.exitCode === null) worker.kill('SIGKILL');
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(`bench:multi done in ${elapsed()}`);
}
