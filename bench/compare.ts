// bench:compare — is a change faster? tokentab built from two checkouts (A = the baseline, B = the
// change), each in its own server process with its own bare proxy and database, called one after
// the other at concurrency 1 against one fake upstream, so the shared machine's drift falls on both.
// Prints p50 per checkout and B − A; an A/A run (the same checkout twice) shows the noise floor.
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
//   npm run bench:compare -- /tmp/base "$PWD"
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { appendResults, machine } from './machine.ts';

const trees = process.argv.slice(2).map((tree) => resolve(tree));
if (trees.length !== 2) {
  console.error('usage: npm run bench:compare -- <checkout A> <checkout B>');
  process.exit(2);
}
const CALLS = Number(process.env.BENCH_CALLS ?? 1_500);
const messages = [
  { role: 'system', content: 'You are a careful assistant for a small accounting firm. Answer in plain English, in short paragraphs, and say when you are unsure. Prefer concrete examples over abstractions, cite the rule you rely on, and never invent figures.' },
  { role: 'user', content: 'We sell prepaid credits that customers spend on API calls. Each call reserves the worst case before it runs and is charged its actual usage afterwards. How should we record the reservation and the final charge in a double-entry ledger? Please keep the answer under two hundred words.' },
];
const body = JSON.stringify({ model: 'gpt-4o-mini', messages, max_tokens: 64 });
const completion = JSON.stringify({
  id: 'chatcmpl-compare',
  object: 'chat.completion',
  created: 1_800_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Record the hold as a reservation.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 120, completion_tokens: 8, total_tokens: 128 },
});
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
    res.end(completion);
  });
});
upstream.keepAliveTimeout = 60_000;
await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

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
  const child = spawn(process.execPath, ['--import', 'tsx', join(tree, 'bench/gateway-server.ts'), databasePath, upstreamUrl], { cwd: tree, stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise<string>((done) => createInterface({ input: child.stdout! }).on('line', (line) => line.startsWith('ready ') && done(line)));
  const [port, proxyPort] = ready.slice('ready '.length).split(' ').map(Number) as [number, number];
  servers.push({ tree, child, port, proxyPort, keys, agent: new Agent({ keepAlive: true, maxSockets: 1 }), metered: [], proxied: [] });
}

function call(port: number, agent: Agent, key: string | null): Promise<number> {
  return new Promise((done, fail) => {
    const startedMs = performance.now();
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (key) headers.authorization = `Bearer ${key}`;
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? done(performance.now() - startedMs) : fail(new Error(`status ${res.statusCode} from port ${port}`))));
    });
    req.on('error', fail);
    req.end(body);
  });
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
