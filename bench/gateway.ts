// bench:gateway — what metering costs a call. A local fake upstream answers at once; in one server
// process, tokentab beside two bare pass-through proxies on the same openai SDK (no auth, no metering):
// the yardstick over plain node:http (plain-proxy.ts), and one behind the app's own Hono layer. (a) At
// concurrency 1, the four targets interleaved (the upstream called directly too): the metering cost at
// p50 (tokentab p50 − plain proxy p50; goal ≤ 1 ms, stretch 0.5 ms), p99 against the plain proxy's
// (goal ≤ 1.5×), and the same against the Hono proxy and the upstream called directly. (b) At
// concurrency 50 spread over keys: metered calls/s against the plain proxy's (goal ≥ 0.9×), every call
// charged, audit clean. Every ratio is against baselines measured in the same run, as the machine is
// shared and noisy. Figures are appended to bench/RESULTS.md. The server process runs apart from this
// one (which sends the calls and plays the upstream), so it is the server's work that is measured;
// BENCH_PROFILE_DIR=dir writes its CPU profile there.
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { systemClock } from '../src/clock.ts';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { audit } from '../src/audit.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { installLedgerPolicy } from '../src/ledger/policy.ts';
import { spendingPolicy } from '../src/spending-policy/policy.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { appendResults, machine, percentile } from './machine.ts';
import { PROMPT_TOKENS, postChat, startFakeUpstream } from './chat-calls.ts';

// The credits granted here go through the ledger with the app's policy, as in the server (src/server.ts).
installLedgerPolicy(spendingPolicy);

const SEQUENTIAL_CALLS = Number(process.env.BENCH_CALLS ?? 2_000);
const CONCURRENT_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 50;
const USERS = 10;
const KEYS_PER_USER = 5;

interface Target {
  name: string;
  port: number;
  agent: Agent;
}

const dir = mkdtempSync(join(tmpdir(), 'tokentab-bench-gateway-'));
const databasePath = join(dir, 'bench.db');
const upstream = await startFakeUpstream();
console.log(`bench:gateway on ${machine()}; load average ${loadavg()[0]!.toFixed(2)}; prompt ${PROMPT_TOKENS} tokens; SQLITE_SYNCHRONOUS=full`);
const loadAtStart = loadavg()[0]!;

// Users and keys first, then the server process opens the same file.
const db = openSqlite(databasePath, 'full');
await migrateToLatest(db);
await seedDefaults(db, systemClock);
const keys: string[] = [];
for (let u = 0; u < USERS; u++) {
  const user = await createUser(db, systemClock, { email: `bench${u}@example.com`, passwordHash: 'x' });
  await grantCredits(db, systemClock, { userId: user.id, amountMc: 1_000_000_000_000, reason: 'bench' });
  for (let k = 0; k < KEYS_PER_USER; k++) keys.push((await createApiKey(db, systemClock, user.id, `bench ${k}`)).key);
}

const profileFlags = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [];
const child = spawn(process.execPath, [...profileFlags, '--import', 'tsx', new URL('./gateway-server.ts', import.meta.url).pathname, databasePath, upstream.url], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! });
const nextLine = (prefix: string) =>
  new Promise<string>((resolve) => {
    const onLine = (line: string) => {
      if (!line.startsWith(prefix)) return;
      lines.off('line', onLine);
      resolve(line.slice(prefix.length));
    };
    lines.on('line', onLine);
  });
const [tokentabPort, honoProxyPort, plainProxyPort] = (await nextLine('ready ')).split(' ').map(Number) as [number, number, number];
const agent = () => new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const tokentab: Target = { name: 'tokentab', port: tokentabPort, agent: agent() };
const proxy: Target = { name: 'plain proxy', port: plainProxyPort, agent: agent() };
const honoProxy: Target = { name: 'Hono proxy', port: honoProxyPort, agent: agent() };
const direct: Target = { name: 'direct', port: Number(new URL(upstream.url).port), agent: agent() };
const targets = [proxy, honoProxy, tokentab, direct];

let meteredOk = 0;
let failures = 0;
const keyFor = (target: Target, index: number) => (target === tokentab ? keys[index % keys.length]! : null);
async function timed(target: Target, index: number): Promise<number> {
  const result = await postChat(target.port, target.agent, keyFor(target, index));
  if (result.status !== 200) failures++;
  else if (target === tokentab) meteredOk++;
  return result.ms;
}

try {
  // Warm up every path (JIT, connections, statement cache).
  for (let i = 0; i < 300; i++) for (const target of targets) await timed(target, i);

  // (a) Concurrency 1, interleaved (each round starts at the next target), so drift (CPU frequency,
  // GC, the neighbours' load) hits all four alike.
  const samples = new Map<Target, number[]>(targets.map((target) => [target, []]));
  for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
    for (let j = 0; j < targets.length; j++) {
      const target = targets[(i + j) % targets.length]!;
      samples.get(target)!.push(await timed(target, i));
    }
  }
  const stats = (target: Target) => {
    const sorted = [...samples.get(target)!].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  const [p, h, t, d] = [stats(proxy), stats(honoProxy), stats(tokentab), stats(direct)];
  const meteringMs = t.p50 - p.p50;
  const p99Ratio = t.p99 / p.p99;
  console.log(`(a) c=1, ${SEQUENTIAL_CALLS} calls each: p50 direct ${d.p50.toFixed(3)} ms, plain proxy ${p.p50.toFixed(3)} ms, Hono proxy ${h.p50.toFixed(3)} ms, tokentab ${t.p50.toFixed(3)} ms`);
  // The shared machine's speed varies by up to 2× over minutes, and every figure with it: the
  // metering cost as a share of a proxied call's p50 (same run, same moments) shows what is ours.
  const meteringShare = meteringMs / p.p50;
  console.log(`    added over the plain proxy: p50 ${meteringMs.toFixed(3)} ms = ${meteringShare.toFixed(2)}× a proxied call (goal ≤ 1 ms, stretch 0.5); p99 plain ${p.p99.toFixed(3)} ms, tokentab ${t.p99.toFixed(3)} ms = ${p99Ratio.toFixed(2)}× (goal ≤ 1.5×)`);
  console.log(`    added over the Hono proxy: p50 ${(t.p50 - h.p50).toFixed(3)} ms, p99 ${(t.p99 / h.p99).toFixed(2)}×; over the upstream called directly: p50 ${(t.p50 - d.p50).toFixed(3)} ms, p99 ${(t.p99 - d.p99).toFixed(3)} ms`);

  /** The server process's CPU so far, user + system, and its system part alone (the kernel's: socket and WAL writes, fsync). */
  const serverCpu = async () => {
    child.stdin!.write('cpu\n');
    const [totalUs, systemUs] = (await nextLine('cpu ')).split(' ').map(Number) as [number, number];
    return { totalUs, systemUs };
  };
  const serverCpuUs = async () => (await serverCpu()).totalUs;

  // (a′) The server's CPU per call at concurrency 1, in blocks of calls to one target (alternating):
  // CPU time moves far less with the neighbours' load than latency does, so it shows what a change
  // saved when the machine is too busy for latencies to.
  const sequentialCpuUs = new Map<Target, number>([
    [proxy, 0],
    [tokentab, 0],
  ]);
  const sequentialSystemUs = new Map<Target, number>([
    [proxy, 0],
    [tokentab, 0],
  ]);
  const BLOCK_CALLS = 200;
  const BLOCKS = 3;
  for (let block = 0; block < BLOCKS; block++) {
    for (const target of [proxy, tokentab]) {
      const before = await serverCpu();
      for (let i = 0; i < BLOCK_CALLS; i++) await timed(target, i);
      const after = await serverCpu();
      sequentialCpuUs.set(target, sequentialCpuUs.get(target)! + after.totalUs - before.totalUs);
      sequentialSystemUs.set(target, sequentialSystemUs.get(target)! + after.systemUs - before.systemUs);
    }
  }
  const sequentialCpuPerCallUs = (target: Target) => sequentialCpuUs.get(target)! / (BLOCK_CALLS * BLOCKS);
  const sequentialSystemPerCallUs = (target: Target) => sequentialSystemUs.get(target)! / (BLOCK_CALLS * BLOCKS);
  const cpuText = (target: Target) => `${sequentialCpuPerCallUs(target).toFixed(0)} (system ${sequentialSystemPerCallUs(target).toFixed(0)})`;
  console.log(`(a′) c=1 server CPU per call, µs: plain proxy ${cpuText(proxy)}, tokentab ${cpuText(tokentab)}`);

  // (b) Concurrency 50 over 50 keys of 10 users; the targets alternate in rounds.
  const throughputTargets = [proxy, honoProxy, tokentab];
  const cpuUs = new Map<Target, number>(throughputTargets.map((target) => [target, 0]));
  const calls = new Map<Target, number>(throughputTargets.map((target) => [target, 0]));
  const rates = new Map<Target, number>(throughputTargets.map((target) => [target, 0]));
  async function throughput(target: Target, seconds: number): Promise<number> {
    const cpuBeforeUs = await serverCpuUs();
    const untilMs = performance.now() + seconds * 1000;
    let done = 0;
    const startedMs = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        while (performance.now() < untilMs) {
          await timed(target, worker);
          done++;
        }
      }),
    );
    const elapsedS = (performance.now() - startedMs) / 1000;
    cpuUs.set(target, cpuUs.get(target)! + (await serverCpuUs()) - cpuBeforeUs);
    calls.set(target, calls.get(target)! + done);
    return done / elapsedS;
  }
  // Rounds alternate the targets, so a change of the machine's load falls on each.
  const rounds = 2;
  for (let round = 0; round < rounds; round++) {
    for (const target of throughputTargets) rates.set(target, rates.get(target)! + (await throughput(target, CONCURRENT_SECONDS / rounds)) / rounds);
  }
  const proxyRate = rates.get(proxy)!;
  const honoProxyRate = rates.get(honoProxy)!;
  const tokentabRate = rates.get(tokentab)!;
  const cpuPerCallUs = (target: Target) => cpuUs.get(target)! / calls.get(target)!;
  const throughputRatio = tokentabRate / proxyRate;
  child.stdin!.write('stats\n');
  const groups = JSON.parse(await nextLine('stats ')) as Record<'holds' | 'settles', { commits: number; writes: number; largestGroup: number }>;
  console.log(`(b) c=${CONCURRENCY}: plain proxy ${proxyRate.toFixed(0)} calls/s, Hono proxy ${honoProxyRate.toFixed(0)} calls/s, tokentab ${tokentabRate.toFixed(0)} calls/s = ${throughputRatio.toFixed(2)}× the plain proxy (goal ≥ 0.9)`);
  console.log(`    server CPU per call: plain proxy ${cpuPerCallUs(proxy).toFixed(0)} µs, Hono proxy ${cpuPerCallUs(honoProxy).toFixed(0)} µs, tokentab ${cpuPerCallUs(tokentab).toFixed(0)} µs`);
  console.log(`    holds: ${groups.holds.writes} in ${groups.holds.commits} commits (largest group ${groups.holds.largestGroup}); settles: ${groups.settles.writes} in ${groups.settles.commits} durable commits (largest group ${groups.settles.largestGroup})`);

  child.stdin!.write('exit\n');
  await new Promise((resolve) => child.on('exit', resolve));

  // Every metered call charged exactly once, and the books balance.
  const rows = await db.selectFrom('usage').select((eb) => [eb.fn.countAll<number>().as('calls'), eb.fn.sum<number>('charged_mc').as('charged_mc')]).where('status', '=', 'ok').executeTakeFirstOrThrow();
  const entries = await db.selectFrom('ledger_entries').select((eb) => [eb.fn.countAll<number>().as('entries'), eb.fn.sum<number>('amount_mc').as('amount_mc')]).where('type', '=', 'usage').executeTakeFirstOrThrow();
  const pending = await db.selectFrom('holds').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
  const violations = await audit(db);
  const everyCallCharged = Number(rows.calls) === meteredOk && Number(entries.entries) === meteredOk && -Number(entries.amount_mc) === Number(rows.charged_mc) && Number(pending.n) === 0;
  console.log(`    metered calls answered 200: ${meteredOk}; usage rows ${rows.calls}, usage entries ${entries.entries}, pending holds ${pending.n}; failures ${failures}; audit ${violations.length === 0 ? 'clean' : `${violations.length} violations`}`);

  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const allCharged = everyCallCharged && violations.length === 0 && failures === 0;
  appendResults('bench:gateway', [
    `Prompt ${PROMPT_TOKENS} tokens, non-stream, fake upstream answering at once; in one server process tokentab, the plain proxy (the openai SDK over plain node:http: no framework, no auth, no metering) and the Hono proxy (the same SDK behind the app's Hono layer: security headers, body limit); the client and the upstream in another; SQLITE_SYNCHRONOUS=full. Load average at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (the machine is shared).`,
    '',
    '| measure | direct upstream | plain proxy | Hono proxy | tokentab | result | goal |',
    '|---|---|---|---|---|---|---|',
    `| (a) c=1 p50 latency, ms (${SEQUENTIAL_CALLS} calls each, interleaved) | ${d.p50.toFixed(3)} | ${p.p50.toFixed(3)} | ${h.p50.toFixed(3)} | ${t.p50.toFixed(3)} | added over the plain proxy ${meteringMs.toFixed(3)} ms (${meteringShare.toFixed(2)}× a proxied call's p50); over the Hono proxy ${(t.p50 - h.p50).toFixed(3)} ms; over direct ${(t.p50 - d.p50).toFixed(3)} ms | ≤ 1 ms ${met(meteringMs <= 1)} (stretch 0.5 ${met(meteringMs <= 0.5)}) |`,
    `| (a) c=1 p99 latency, ms | ${d.p99.toFixed(3)} | ${p.p99.toFixed(3)} | ${h.p99.toFixed(3)} | ${t.p99.toFixed(3)} | ${p99Ratio.toFixed(2)}× the plain proxy, ${(t.p99 / h.p99).toFixed(2)}× the Hono proxy | ≤ 1.5× ${met(p99Ratio <= 1.5)} |`,
    `| (a′) c=1 server CPU per call, µs, user + system (system) (${BLOCKS} blocks of ${BLOCK_CALLS} calls each, alternating) | — | ${cpuText(proxy)} | — | ${cpuText(tokentab)} | ${(sequentialCpuPerCallUs(tokentab) - sequentialCpuPerCallUs(proxy)).toFixed(0)} µs more than the plain proxy per call (waiting on the settle's fsync is not CPU time and is not in it) | — |`,
    `| (b) c=${CONCURRENCY} calls/s (${USERS} users × ${KEYS_PER_USER} keys, ${CONCURRENT_SECONDS} s each) | — | ${proxyRate.toFixed(0)} | ${honoProxyRate.toFixed(0)} | ${tokentabRate.toFixed(0)} | ${throughputRatio.toFixed(2)}× the plain proxy, ${(tokentabRate / honoProxyRate).toFixed(2)}× the Hono proxy | ≥ 0.9× ${met(throughputRatio >= 0.9)} |`,
    `| (b) server CPU per call, µs (user + system, server process) | — | ${cpuPerCallUs(proxy).toFixed(0)} | ${cpuPerCallUs(honoProxy).toFixed(0)} | ${cpuPerCallUs(tokentab).toFixed(0)} | ${(cpuPerCallUs(tokentab) - cpuPerCallUs(proxy)).toFixed(0)} µs more than the plain proxy per call | — |`,
    `| (b) every call charged, audit clean | — | — | — | ${meteredOk} calls; ${groups.settles.writes} settles in ${groups.settles.commits} durable commits (largest ${groups.settles.largestGroup}), ${groups.holds.writes} holds in ${groups.holds.commits} commits | ${allCharged ? 'yes' : 'NO'} | all charged, audit clean ${met(allCharged)} |`,
  ]);
  if (!everyCallCharged || violations.length > 0 || failures > 0) process.exitCode = 1;
} finally {
  if (child.exitCode === null) child.kill('SIGKILL');
  upstream.close();
  for (const target of targets) target.agent.destroy();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}
