// bench:compare — is a change faster? tokentab built from two checkouts (A = the baseline, B = the
// change), each in its own server process with its own bare proxy and database, called one after
// the other at concurrency 1 against one fake upstream, so the shared machine's drift falls on both.
// Prints p50 per checkout and B − A; an A/A run (the same checkout twice) shows the noise floor.
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   npm run bench:compare -- /tmp/base "$PWD"
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { appendResults, machine } from './machine.ts';
import { postChat, startFakeUpstream } from './chat-calls.ts';

const trees = process.argv.slice(2).map((tree) => resolve(tree));
if (trees.length !== 2) {
  console.error('usage: npm run bench:compare -- <checkout A> <checkout B>');
  process.exit(2);
}
const CALLS = Number(process.env.BENCH_CALLS ?? 1_500);
const upstream = await startFakeUpstream();

interface Server {
  tree: string;
  child: ChildProcess;
  port: number;
  proxyPort: number;
  keys: string[];
  agent: Agent;
  metered: number[];
  proxied: number[];
}
const dir = mkdtempSync(join(tmpdir(), 'tokentab-bench-compare-'));
const servers: Server[] = [];
for (const [index, tree] of trees.entries()) {
  const databasePath = join(dir, `${index}.db`);
  const setup = execFileSync(process.execPath, ['--import', 'tsx', new URL('./compare-setup.ts', import.meta.url).pathname, tree, databasePath], { cwd: tree });
  const keys = JSON.parse(setup.toString().trim().split('\n').at(-1)!) as string[];
  // Each checkout's own gateway-server.ts: its app beside its proxy.
  const child = spawn(process.execPath, ['--import', 'tsx', join(tree, 'bench/gateway-server.ts'), databasePath, upstream.url], { cwd: tree, stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise<string>((done) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('ready ') && done(line)));
  const [port, proxyPort] = ready.slice('ready '.length).split(' ').map(Number) as [number, number];
  servers.push({ tree, child, port, proxyPort, keys, agent: new Agent({ keepAlive: true, maxSockets: 1 }), metered: [], proxied: [] });
}

async function call(port: number, agent: Agent, key: string | null): Promise<number> {
  const { ms, status } = await postChat(port, agent, key);
  if (status !== 200) throw new Error(`status ${status} from port ${port}`);
  return ms;
}
const p50 = (samples: number[]) => [...samples].sort((a, b) => a - b)[samples.length >> 1]!;
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

try {
  for (let i = 0; i < 300; i++) for (const server of servers) await call(server.port, server.agent, server.keys[i % 4]!);
  for (let i = 0; i < CALLS; i++) {
    for (const server of i % 2 === 0 ? servers : [...servers].reverse()) {
      server.metered.push(await call(server.port, server.agent, server.keys[i % 4]!));
      server.proxied.push(await call(server.proxyPort, server.agent, null));
    }
  }
  const [a, b] = servers as [Server, Server];
  const lines = servers.map((s, i) => `| ${i === 0 ? 'A' : 'B'} ${s.tree} | ${us(p50(s.metered))} | ${us(p50(s.proxied))} | ${us(p50(s.metered) - p50(s.proxied))} |`);
  const change = p50(b.metered) - p50(a.metered);
  console.log(`bench:compare on ${machine()}, ${CALLS} calls each`);
  for (const line of lines) console.log(line);
  console.log(`B − A, tokentab p50: ${us(change)} (${(p50(b.metered) / p50(a.metered)).toFixed(3)}×); proxies B − A: ${us(p50(b.proxied) - p50(a.proxied))}`);
  appendResults('bench:compare', [
    `Two checkouts at concurrency 1, calls interleaved, ${CALLS} each, each server beside its own bare proxy.`,
    '',
    '| checkout | tokentab p50 | its proxy p50 | metering cost |',
    '|---|---|---|---|',
    ...lines,
    '',
    `B − A: ${us(change)} on tokentab's p50 (${(p50(b.metered) / p50(a.metered)).toFixed(3)}×); the two proxies, the same code, differ by ${us(p50(b.proxied) - p50(a.proxied))} (the noise floor).`,
  ]);
} finally {
  for (const server of servers) {
    server.child.kill('SIGKILL');
    server.agent.destroy();
  }
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
}
