// bench:footprint — what the server costs a small box: start time (spawn → /healthz answers) and idle
// RSS of `npm start`'s command on an empty SQLite database, several starts; then steady RSS under
// mixed metered calls (chat whole and streamed, Responses whole and streamed, embeddings) through the
// official openai SDK → the server → the fake upstream of test/fakes, at concurrency 50, after 20,000
// and after --calls (100,000) calls, with calls/s, every call charged and audit clean. Baselines of the
// same run: a bare `node -e` HTTP server, and the same server run as TypeScript through tsx.
// Appends a dated section with the machine's load to bench/RESULTS.md. Flags: --calls N, --starts N,
// --concurrency N, --node-flags "…" (extra Node flags for the server), --no-tsx.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/clock.ts';
import { openSqlite } from '../src/db/connect.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { installLedgerPolicy } from '../src/ledger/policy.ts';
import { spendingPolicy } from '../src/spending-policy/policy.ts';
import { createUser } from '../src/users/users.ts';
import { startFakeOpenAIUpstream } from '../test/fakes/openai-upstream.ts';
import { appendResults, machine } from './machine.ts';
import { cpuMs, rssAfterGcMb, rssMb, sleep, startTimed, type Measured } from './footprint-process.ts';
import { CALL_KINDS, runMixedCalls } from './footprint-load.ts';

// The credits granted here go through the ledger with the app's policy, as in the server.
installLedgerPolicy(spendingPolicy);

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string', default: '100000' },
    starts: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '50' },
    'node-flags': { type: 'string', default: '' },
    'no-tsx': { type: 'boolean', default: false },
  },
});
const TOTAL_CALLS = Number(flags.calls);
const STARTS = Number(flags.starts);
const CONCURRENCY = Number(flags.concurrency);
const NODE_FLAGS = flags['node-flags'].split(' ').filter(Boolean);
if (!(TOTAL_CALLS >= 1 && STARTS >= 1 && CONCURRENCY >= 1)) throw new Error('--calls, --starts and --concurrency must be positive numbers');
const FIRST_CHECKPOINT = Math.min(20_000, TOTAL_CALLS);
/** After /healthz answers, the server settles down this long (its start-up jobs run) before idle RSS is read. */
const SETTLE_MS = 3_000;
const GOALS = { startMs: 1_000, idleMb: 150, steadyMb: 300 };
const USERS = 10;
const KEYS_PER_USER = 5;

const root = new URL('..', import.meta.url).pathname;
const gcHook = new URL('./footprint-gc.mjs', import.meta.url).pathname;
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const loadAtStart = uptime();
console.log(`bench:footprint on ${machine()}; ${loadAtStart}`);

// What `npm start` runs, after its prestart (the build, when a source is newer than dist/).
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
const [startProgram, ...startArgs] = scripts.start!.split(' ');
if (startProgram !== 'node') throw new Error(`npm start runs "${scripts.start}", not node: measure it by hand`);
execFileSync('sh', ['-c', scripts.prestart ?? 'true'], { cwd: root, stdio: 'inherit' });

// What each package costs when imported, in a fresh process (bench/footprint-imports.mjs).
interface ImportCost {
  module: string;
  rssMb: number;
  heapMb: number;
  cpuMs: number;
}
const imports = JSON.parse(execFileSync(process.execPath, ['--expose-gc', new URL('./footprint-imports.mjs', import.meta.url).pathname], { cwd: root, encoding: 'utf8' })) as { baseRssMb: number; rows: ImportCost[] };

const dir = mkdtempSync(join(tmpdir(), 'tokentab-bench-footprint-'));
const fake = await startFakeOpenAIUpstream();
// The server's connections to the fake stay open between calls: on a busy machine timers run late, and a
// socket the fake closes after Node's default 5 s idle just as the server reuses it fails the call (502).
fake.keepIdleConnectionsFor(120_000);
let databases = 0;
const serverEnv = () => ({
  DATABASE_URL: `sqlite:${join(dir, `empty-${++databases}.db`)}`,
  OPENAI_API_KEY: 'sk-bench-footprint-operator',
  OPENAI_BASE_URL: `${fake.url}/v1`,
  PAYMENTS: 'off',
  STRIPE_SECRET_KEY: '',
  STRIPE_WEBHOOK_SECRET: '',
  SMTP_URL: '',
  PUBLIC_URL: '',
  UPSTREAMS_FILE: '',
  METRICS_LISTEN: '',
});

interface Idle {
  startMs: number;
  startCpuMs: number;
  idleMb: number;
  afterGcMb: number;
  heapUsedMb: number;
}

async function idleFigures(measured: Measured): Promise<Idle> {
  await sleep(SETTLE_MS);
  const idleMb = rssMb(measured.child.pid!);
  const gc = await rssAfterGcMb(measured);
  return { startMs: measured.startMs, startCpuMs: measured.startCpuMs ?? Number.NaN, idleMb, afterGcMb: gc.rssMb, heapUsedMb: gc.heapUsedMb };
}

const serverArgs = ['--expose-gc', '--import', gcHook, ...NODE_FLAGS, ...startArgs];
// The same Node flags as npm start's (all but its last word, the script), so the two differ by the loader alone.
const tsxArgs = ['--expose-gc', '--import', gcHook, ...startArgs.slice(0, -1), ...NODE_FLAGS, '--import', 'tsx', 'src/server.ts'];
const bareArgs = ['--expose-gc', '--import', gcHook, '-e', "require('node:http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT, '127.0.0.1')"];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const figures = (runs: Idle[], pick: (run: Idle) => number, digits = 0) => `${runs.map((run) => pick(run).toFixed(digits)).join(', ')} (median ${median(runs.map(pick)).toFixed(digits)})`;
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

let server: Measured | null = null;
try {
  // Baselines and starts, interleaved so the machine's drift hits all alike.
  const bare: Idle[] = [];
  const built: Idle[] = [];
  const tsx: Idle[] = [];
  for (let run = 0; run < STARTS; run++) {
    const bareNode = await startTimed(process.execPath, bareArgs, {}, '/');
    bare.push(await idleFigures(bareNode));
    await bareNode.stop();
    if (!flags['no-tsx']) {
      const viaTsx = await startTimed(process.execPath, tsxArgs, serverEnv());
      tsx.push(await idleFigures(viaTsx));
      await viaTsx.stop();
    }
    const started = await startTimed(process.execPath, serverArgs, serverEnv());
    built.push(await idleFigures(started));
    console.log(`start ${run + 1}: bare node ${bare.at(-1)!.startMs.toFixed(0)} ms ${bare.at(-1)!.idleMb.toFixed(1)} MB; ${tsx.length ? `tsx ${tsx.at(-1)!.startMs.toFixed(0)} ms ${tsx.at(-1)!.idleMb.toFixed(1)} MB; ` : ''}npm start ${built.at(-1)!.startMs.toFixed(0)} ms (CPU ${built.at(-1)!.startCpuMs.toFixed(0)} ms) ${built.at(-1)!.idleMb.toFixed(1)} MB idle, ${built.at(-1)!.afterGcMb.toFixed(1)} MB after GC`);
    // The last start serves the load.
    if (run < STARTS - 1) await started.stop();
    else server = started;
  }

  // Users and keys, written through the ledger into the server's database.
  const databasePath = join(dir, `empty-${databases}.db`);
  const db = openSqlite(databasePath, 'full');
  const keys: string[] = [];
  const GRANT_MC = 1_000_000_000_000;
  for (let u = 0; u < USERS; u++) {
    const user = await createUser(db, systemClock, { email: `footprint${u}@example.com`, passwordHash: 'x' });
    await grantCredits(db, systemClock, { userId: user.id, amountMc: GRANT_MC, reason: 'bench' });
    for (let k = 0; k < KEYS_PER_USER; k++) keys.push((await createApiKey(db, systemClock, user.id, `footprint ${k}`)).key);
  }

  const pid = server!.child.pid!;
  const checkpoints = new Map<number, number>();
  let peakMb = 0;
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb(pid));
    // The fake records every request; a bench of 100,000 calls keeps none.
    fake.requests.length = 0;
  }, 250);
  console.log(`load: ${TOTAL_CALLS} calls, concurrency ${CONCURRENCY}, ${keys.length} keys of ${USERS} users`);
  const cpuBeforeMs = cpuMs(pid);
  const load = await runMixedCalls({
    url: server!.url,
    keys,
    total: TOTAL_CALLS,
    concurrency: CONCURRENCY,
    // Every 20,000 calls, and at the end: whether the RSS levels off.
    checkpoints: [...new Set([...Array.from({ length: Math.floor(TOTAL_CALLS / FIRST_CHECKPOINT) }, (_, i) => (i + 1) * FIRST_CHECKPOINT), TOTAL_CALLS])],
    onCheckpoint(count) {
      const mb = rssMb(pid);
      checkpoints.set(count, mb);
      peakMb = Math.max(peakMb, mb);
      console.log(`  after ${count} calls: RSS ${mb.toFixed(1)} MB`);
    },
  });
  clearInterval(sampler);
  const callsPerS = load.ok / (load.elapsedMs / 1000);
  // The server's own CPU per call: what a flag costs in speed, little moved by the machine's other load.
  const cpuAfterMs = cpuMs(pid);
  const cpuPerCallUs = cpuBeforeMs === null || cpuAfterMs === null ? Number.NaN : ((cpuAfterMs - cpuBeforeMs) * 1000) / (load.ok + load.failures);
  await sleep(1_000);
  const afterLoad = await rssAfterGcMb(server!);
  const exitCode = await server!.stop();
  server = null;
  console.log(`load: ${load.ok} ok, ${load.failures} failed${load.firstFailure ? ` (first: ${load.firstFailure})` : ''}, ${callsPerS.toFixed(0)} calls/s, server CPU ${cpuPerCallUs.toFixed(0)} µs a call; after a GC ${afterLoad.rssMb.toFixed(1)} MB (V8 heap ${afterLoad.heapUsedMb.toFixed(1)} used of ${afterLoad.heapTotalMb.toFixed(1)}, external ${afterLoad.externalMb.toFixed(1)}); SIGTERM exit ${exitCode}`);

  // Every answered call charged once, and the books balance.
  const usage = await db.selectFrom('usage').select((eb) => [eb.fn.countAll<number>().as('calls'), eb.fn.sum<number>('charged_mc').as('charged_mc')]).where('status', '=', 'ok').where('charged_mc', '>', 0).executeTakeFirstOrThrow();
  const allUsage = await db.selectFrom('usage').select((eb) => eb.fn.countAll<number>().as('calls')).executeTakeFirstOrThrow();
  const entries = await db.selectFrom('ledger_entries').select((eb) => [eb.fn.countAll<number>().as('entries'), eb.fn.sum<number>('amount_mc').as('amount_mc')]).where('type', '=', 'usage').executeTakeFirstOrThrow();
  const wallets = await db.selectFrom('wallets').select((eb) => [eb.fn.sum<number>('balance_mc').as('balance_mc'), eb.fn.sum<number>('held_mc').as('held_mc')]).executeTakeFirstOrThrow();
  const pending = await db.selectFrom('holds').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  const violations = await audit(db);
  await db.destroy();
  const chargedMc = Number(usage.charged_mc);
  const everyCallCharged =
    load.failures === 0 &&
    Number(usage.calls) === load.ok &&
    Number(allUsage.calls) === load.ok &&
    Number(entries.entries) === load.ok &&
    -Number(entries.amount_mc) === chargedMc &&
    USERS * GRANT_MC - Number(wallets.balance_mc) === chargedMc &&
    Number(wallets.held_mc) === 0 &&
    Number(pending.n) === 0;
  const clean = everyCallCharged && violations.length === 0 && exitCode === 0;
  console.log(`books: ${usage.calls} usage rows charged, ${entries.entries} usage entries, ${chargedMc} mc charged = the wallets' fall; pending holds ${pending.n}; audit ${violations.length === 0 ? 'clean' : `${violations.length} violations: ${violations[0]?.detail ?? ''}`}`);

  const startMedian = median(built.map((run) => run.startMs));
  const idleMedian = median(built.map((run) => run.idleMb));
  const steadyMb = Math.max(...checkpoints.values());
  const flagsText = NODE_FLAGS.length ? ` with \`${NODE_FLAGS.join(' ')}\`` : '';
  appendResults('bench:footprint', [
    `\`npm start\` (\`${scripts.start}\`${flagsText}) on an empty SQLite database (SQLITE_SYNCHRONOUS=full), ${STARTS} starts, each beside a bare \`node -e\` HTTP server${tsx.length ? ' and the same server as TypeScript through tsx (`node --import tsx src/server.ts`)' : ''}; idle RSS ${SETTLE_MS / 1000} s after /healthz first answers, then after a full GC (SIGUSR2 → \`gc()\`, \`--expose-gc\`). Load: ${TOTAL_CALLS} mixed calls (${CALL_KINDS.join(', ')}; gpt-4o and gpt-4o-mini, both embedding models; each with a question of its own) through the openai SDK → the server → test/fakes' upstream, concurrency ${CONCURRENCY} over ${keys.length} keys of ${USERS} users. Load at start: \`${loadAtStart}\`; at end: \`${uptime()}\`.`,
    '',
    '| measure | bare node | tsx (TypeScript at run time) | npm start (built JavaScript) | goal |',
    '|---|---|---|---|---|',
    `| start, ms (spawn → /healthz answers) | ${figures(bare, (r) => r.startMs)} | ${tsx.length ? figures(tsx, (r) => r.startMs) : '—'} | ${figures(built, (r) => r.startMs)} | ≤ ${GOALS.startMs} ${met(startMedian <= GOALS.startMs)} |`,
    `| start, CPU ms used by then (user + system; what a quiet machine's start comes near) | ${figures(bare, (r) => r.startCpuMs)} | ${tsx.length ? figures(tsx, (r) => r.startCpuMs) : '—'} | ${figures(built, (r) => r.startCpuMs)} | — |`,
    `| idle RSS, MB | ${figures(bare, (r) => r.idleMb, 1)} | ${tsx.length ? figures(tsx, (r) => r.idleMb, 1) : '—'} | ${figures(built, (r) => r.idleMb, 1)} | ≤ ${GOALS.idleMb} ${met(idleMedian <= GOALS.idleMb)} |`,
    `| idle RSS after a full GC, MB (heap used) | ${figures(bare, (r) => r.afterGcMb, 1)} | ${tsx.length ? figures(tsx, (r) => r.afterGcMb, 1) : '—'} | ${figures(built, (r) => r.afterGcMb, 1)} (heap ${figures(built, (r) => r.heapUsedMb, 1)}) | — |`,
    ...[...checkpoints].map(([count, mb]) => `| RSS under load after ${count.toLocaleString('en')} calls, MB | — | — | ${mb.toFixed(1)} | ≤ ${GOALS.steadyMb} ${met(mb <= GOALS.steadyMb)} |`),
    `| peak RSS during the load (sampled every 250 ms), MB; after the load and a full GC | — | — | ${peakMb.toFixed(1)}; ${afterLoad.rssMb.toFixed(1)} (V8 heap ${afterLoad.heapUsedMb.toFixed(1)} used of ${afterLoad.heapTotalMb.toFixed(1)}, external ${afterLoad.externalMb.toFixed(1)}) | — |`,
    `| calls/s (answered 200 ÷ the load's time); the server's CPU a call, µs | — | — | ${callsPerS.toFixed(0)}; ${cpuPerCallUs.toFixed(0)} | — |`,
    `| every call charged once, audit clean, clean SIGTERM | — | — | ${load.ok} answered (${CALL_KINDS.map((kind) => `${kind} ${load.okByKind[kind]}`).join(', ')}), ${load.failures} failed; ${usage.calls} charged usage rows, ${entries.entries} usage entries, Σ ${chargedMc} mc = the wallets' fall; ${pending.n} pending; audit ${violations.length === 0 ? 'clean' : `${violations.length} violations`}; exit ${exitCode} | ${met(clean)} |`,
    '',
    `What each package adds when imported alone, in the server's order, to a bare Node process of ${imports.baseRssMb.toFixed(1)} MB (bench/footprint-imports.mjs; a package two share counted at the first; stripe and nodemailer are loaded only with PAYMENTS=stripe and SMTP_URL):`,
    '',
    '| package | RSS, MB | V8 heap in use, MB | CPU, ms |',
    '|---|---|---|---|',
    ...imports.rows.map((row) => `| ${row.module} | ${row.rssMb.toFixed(1)} | ${row.heapMb.toFixed(1)} | ${row.cpuMs.toFixed(0)} |`),
  ]);
  console.log(`start median ${startMedian.toFixed(0)} ms (goal ${GOALS.startMs}), idle median ${idleMedian.toFixed(1)} MB (goal ${GOALS.idleMb}), steady ${steadyMb.toFixed(1)} MB (goal ${GOALS.steadyMb}); written to bench/RESULTS.md`);
  if (!clean) process.exitCode = 1;
} finally {
  if (server) server.child.kill('SIGKILL');
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
