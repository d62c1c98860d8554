// Keep-alive behind a proxy, on the real server process: an idle connection outlives Node's 5 s
// default (proxies keep theirs for 60 s and reuse them), and SIGTERM still closes it at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.ts';
import { httpServerOptions } from '../src/web/server-options.ts';
import { DEMO_ENV, startServer } from './helpers/server.ts';
import { emptyDatabaseUrl } from './helpers/backend.ts';

interface Answer {
  status: number;
  socket: Socket;
  /** True when the agent sent this request on a connection it had kept from an earlier one. */
  reusedSocket: boolean;
}

function get(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, socket: req.socket!, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server keeps idle keep-alive connections 65 s by default, and headers 5 s longer', () => {
  assert.equal(httpServerOptions(loadConfig({})), { keepAliveTimeout: 65_000, headersTimeout: 70_000 });
  assert.equal(httpServerOptions(loadConfig({ KEEP_ALIVE_TIMEOUT_SECONDS: '120' })), { keepAliveTimeout: 120_000, headersTimeout: 125_000 });
});

test('an idle keep-alive connection is still served after 6 s; SIGTERM closes it and the server exits at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-keepalive-'));
  const server = await startServer({ ...DEMO_ENV, DATABASE_URL: await emptyDatabaseUrl(dir, 'app.db') });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await get(`${server.url}/healthz`, agent);
    assert.is(first.status, 200);
    let closedByServer = false;
    first.socket.once('close', () => (closedByServer = true));
    // Past Node's 5 s default, well within the 65 s now set.
    await sleep(6_000);
    assert.not.ok(closedByServer, 'the server kept the idle connection');
    const second = await get(`${server.url}/healthz`, agent);
    assert.is(second.status, 200);
    assert.ok(second.reusedSocket, 'the second request went over the connection kept from the first');
    assert.is(second.socket, first.socket);

    // Idle again: a drain must not wait 65 s for it.
    const stoppedAtMs = Date.now();
    const closed = new Promise<void>((resolve) => (closedByServer ? resolve() : second.socket.once('close', () => resolve())));
    assert.is(await server.stop('SIGTERM'), 0);
    await closed;
    const tookMs = Date.now() - stoppedAtMs;
    assert.ok(tookMs < 10_000, `the server closed the idle connection and exited in ${tookMs} ms`);
  } finally {
    agent.destroy();
    await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('KEEP_ALIVE_TIMEOUT_SECONDS reaches the running server: at 1 an idle connection is closed after about 1 s, and a request whose headers start in time and trickle past it is still answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-keepalive-'));
  const server = await startServer({ ...DEMO_ENV, DATABASE_URL: await emptyDatabaseUrl(dir, 'app.db'), KEEP_ALIVE_TIMEOUT_SECONDS: '1' });
  const { port } = new URL(server.url);
  const raw = (socket: Socket) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk));
    return () => received;
  };
  try {
    // Idle after one answer: closed by the server once its 1 s is up (not after Node's 5 s, nor 65 s).
    const idle = connect(Number(port), '127.0.0.1');
    const idleReceived = raw(idle);
    const idleClosed = new Promise<number>((resolve) => idle.once('close', () => resolve(Date.now())));
    idle.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    while (!idleReceived().includes('\r\n\r\nok')) await sleep(10);
    const answeredAtMs = Date.now();
    const idleMs = (await idleClosed) - answeredAtMs;
    assert.ok(idleMs >= 800 && idleMs < 4_000, `the idle connection was closed after ${idleMs} ms`);

    // A second request on a kept connection that starts before the keep-alive runs out and takes 3 s
    // to send its headers is answered: only the headers timeout (6 s here) bounds it.
    const slow = connect(Number(port), '127.0.0.1');
    const slowReceived = raw(slow);
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    while (!slowReceived().includes('\r\n\r\nok')) await sleep(10);
    slow.write('GET /healthz HTTP/1.1\r\n');
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      slow.write(`X-Slow-${i}: yes\r\n`);
    }
    slow.write('Host: 127.0.0.1\r\n\r\n');
    const deadline = Date.now() + 3_000;
    while ((slowReceived().match(/HTTP\/1\.1 200 OK/g) ?? []).length < 2 && Date.now() < deadline) await sleep(10);
    assert.is((slowReceived().match(/HTTP\/1\.1 200 OK/g) ?? []).length, 2, 'the slow second request was answered on the same connection');
    slow.destroy();
  } finally {
    await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
