// bench:gateway's yardstick: a bare pass-through proxy on the official openai SDK over plain node:http
// (no framework, no auth, no metering, no limits), the least any SDK-based gateway could cost.
import { createServer, type Server } from 'node:http';
import type OpenAI from 'openai';

/** POST /v1/chat/completions → the SDK → its JSON answer; anything else 404, an upstream failure 502. */
export function plainProxyServer(client: OpenAI): Server {
  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        try {
          const completion = await client.chat.completions.create(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          const text = JSON.stringify(completion);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        } catch {
          res.writeHead(502).end();
        }
      })();
    });
  });
}
