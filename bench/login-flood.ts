// A real sign-in while unknown-email sign-ins flood the real server (production scrypt cost) from
// rotating addresses (TRUST_PROXY=1, X-Forwarded-For): how long the person waits, idle and under the
// flood, honouring Retry-After as a browser user would by trying again. Appends to bench/RESULTS.md.
// npm run bench:login-flood -- [FLOOD=30]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_ENV, startServer } from '../test/helpers/server.ts';
import { appendResults } from './machine.ts';

const FLOOD = Number(process.argv[2] ?? 30);
const ARRIVE_AFTER_MS = 300;
const dir = mkdtempSync(join(tmpdir(), 'tokentab-flood-'));
const loadAtStart = loadavg()[0]!;
const server = await startServer({ ...DEMO_ENV, TRUST_PROXY: '1', DATABASE_URL: `sqlite:${join(dir, 'flood.db')}` });
const origin = `http://localhost:${server.port}`;

function post(path: string, client: string, form: Record<string, string>) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'x-forwarded-for': client },
    body: new URLSearchParams(form).toString(),
  });
}

async function realSignIn() {
  const startMs = performance.now();
  const statuses: number[] = [];
  for (;;) {
    const answer = await post('/login', '192.0.2.10', { email: 'real@example.com', password: 'correct horse battery' });
    await answer.arrayBuffer();
    statuses.push(answer.status);
    if (answer.status !== 429) return { ms: performance.now() - startMs, statuses };
    await sleep(Number(answer.headers.get('retry-after')) * 1000);
  }
}

try {
  await post('/signup', '192.0.2.10', { email: 'real@example.com', password: 'correct horse battery' });
  await post('/login', '192.0.2.11', { email: 'nobody@example.com', password: 'wrong horse' });
  const idle = [await realSignIn(), await realSignIn(), await realSignIn()].sort((a, b) => a.ms - b.ms)[1]!;
  const floodStartMs = performance.now();
  const flood = Array.from({ length: FLOOD }, (_, i) =>
    post('/login', `198.51.100.${i + 1}`, { email: `nobody${i}@example.com`, password: 'wrong horse' }).then(async (answer) => {
      await answer.arrayBuffer();
      return { status: answer.status, ms: performance.now() - floodStartMs };
    }),
  );
  await sleep(ARRIVE_AFTER_MS);
  const underFlood = await realSignIn();
  const answers = await Promise.all(flood);
  const refused = answers.filter((a) => a.status === 429);
  appendResults('bench:login-flood', [
    `Real server, production scrypt cost (N=2^17), ${FLOOD} concurrent unknown-email sign-ins from ${FLOOD} addresses, a real sign-in ${ARRIVE_AFTER_MS} ms later (the flood queued by then) that tries again after Retry-After. Load average at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (the machine is shared).`,
    '',
    '| measure | figure |',
    '|---|---|',
    `| real sign-in, idle (median of 3) | ${idle.ms.toFixed(0)} ms |`,
    `| real sign-in under the flood | ${underFlood.ms.toFixed(0)} ms (answers ${underFlood.statuses.join(', ')}) |`,
    `| flood refused (429, Retry-After) | ${refused.length} of ${FLOOD}, the last after ${refused.length ? Math.max(...refused.map((a) => a.ms)).toFixed(0) : '—'} ms |`,
    `| flood checked (422) | ${answers.filter((a) => a.status === 422).length}, the last after ${Math.max(...answers.map((a) => a.ms)).toFixed(0)} ms |`,
  ]);
  console.log(`idle ${idle.ms.toFixed(0)} ms; under flood ${underFlood.ms.toFixed(0)} ms (${underFlood.statuses.join(', ')}); refused ${refused.length}/${FLOOD}`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
