// Shared by bench:gateway and bench:compare: the prompt, a fake upstream that answers it at once, and
// a light client timing one POST /v1/chat/completions, so the server is what is measured.
import { createServer, request, type Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countChatInputTokens } from '../src/gateway/tokens.ts';

// About 200 tokens of prompt: a system message and a question, as a typical call sends.
const messages = [
  {
    role: 'system',
    content:
      'You are a careful assistant for a small accounting firm. Answer in plain English, in short paragraphs, and say when you are unsure. ' +
      'Prefer concrete examples over abstractions, cite the rule you rely on, and never invent figures. When a question is ambiguous, ask one clarifying question first.',
  },
  {
    role: 'user',
    content:
      'We sell prepaid credits that customers spend on API calls. Each call reserves the worst case before it runs and is charged its actual usage afterwards. ' +
      'How should we record the reservation and the final charge in a double-entry ledger so that the balance, the amount held and the amount available always agree, ' +
      'even when two calls run at the same time or the process restarts in the middle of a call? We also need monthly statements per customer, refunds that claw ' +
      'credits back without going below zero, and an audit that proves nothing was charged twice. Please keep the answer under two hundred words.',
  },
];
export const PROMPT_TOKENS = await countChatInputTokens({ messages });
const requestBody = JSON.stringify({ model: 'gpt-4o-mini', messages, max_tokens: 64 });

// A fixed completion with usage, answered at once, no tokenizer in the way.
const completion = JSON.stringify({
  id: 'chatcmpl-bench0000000000000000000',
  object: 'chat.completion',
  created: 1_800_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Record the hold as a reservation, not a ledger entry.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: 12, total_tokens: PROMPT_TOKENS + 12 },
});

export function startFakeUpstream(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      res.end(completion);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

/** One POST of the prompt, timed from the request to the last byte of the answer. */
export function postChat(port: number, agent: Agent, key: string | null): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(requestBody) };
    if (key) headers.authorization = `Bearer ${key}`;
    const req = request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - startedMs, status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end(requestBody);
  });
}
