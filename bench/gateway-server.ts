// bench:gateway's server process: tokentab (the real app, metering on) and two pass-through proxies on
// the same openai SDK (no auth, no metering) — one over plain node:http (the yardstick, plain-proxy.ts),
// one behind the app's own Hono layer — side by side, so all three get the same core.
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { createApp } from '../src/app.tsx';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { createContext } from '../src/context.ts';
import { createUpstreamClient } from '../src/gateway/upstream.ts';
import { plainProxyServer } from './plain-proxy.ts';

const [databasePath, upstreamUrl] = process.argv.slice(2) as [string, string];
const config = loadConfig({ PORT: '0', DATABASE_URL: `sqlite:${databasePath}`, OPENAI_API_KEY: 'sk-bench-operator', OPENAI_BASE_URL: `${upstreamUrl}/v1`, PAYMENTS: 'off' });
const db = openDatabase(config.database);
const ctx = createContext(config, { db, clock: systemClock, log: (line) => console.error(line) });
const { gateway } = ctx;
const upstreamTimeoutMs = config.upstreamTimeoutSeconds * 1000;
const app = createApp(ctx);

// The second baseline: a pass-through proxy on the same SDK behind the same HTTP layer the app puts in front
// of /v1 (security headers, body limit), so the difference is auth and metering, not Hono middleware.
const [upstream] = config.upstreams.upstreams;
const proxyClient = createUpstreamClient({ apiKey: upstream!.apiKey, baseUrl: upstream!.baseUrl, timeoutMs: upstreamTimeoutMs });
const proxy = new Hono();
proxy.use('*', secureHeaders());
proxy.use('/v1/*', bodyLimit({ maxSize: 4 * 1024 * 1024 }));
proxy.post('/v1/chat/completions', async (c) => {
  const body = await c.req.json();
  return c.json(await proxyClient.chat.completions.create(body));
});

function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<Server> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server as Server));
  });
}

const tokentabServer = await listen(app.fetch);
const proxyServer = await listen(proxy.fetch);
const plainServer = plainProxyServer(proxyClient);
await new Promise<void>((resolve) => plainServer.listen(0, '127.0.0.1', resolve));
// Node's default keep-alive of 5 s would close a target's idle connections while the bench drives the
// others (a block of calls, a round at concurrency 50), and the client's next call on one would be reset.
for (const server of [tokentabServer, proxyServer, plainServer]) server.keepAliveTimeout = 60_000;
const port = (server: Server) => (server.address() as AddressInfo).port;
console.log(`ready ${port(tokentabServer)} ${port(proxyServer)} ${port(plainServer)}`);

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'cpu') {
    const used = process.cpuUsage();
    console.log(`cpu ${used.user + used.system} ${used.system}`);
  }
  if (line === 'stats') {
    await gateway.settler.idle();
    console.log(`stats ${JSON.stringify({ holds: gateway.holds.stats, settles: gateway.settler.stats })}`);
  }
  if (line === 'exit') {
    await gateway.inFlight.drain(5_000);
    tokentabServer.closeAllConnections();
    proxyServer.closeAllConnections();
    plainServer.closeAllConnections();
    await db.destroy();
    process.exit(0);
  }
});
