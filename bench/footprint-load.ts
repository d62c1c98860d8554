// bench:footprint's load: mixed metered calls through the official openai SDK at a fixed concurrency
// (chat whole and streamed, Responses whole and streamed, embeddings), each with a text of its own, so
// the server's caches fill as under real traffic. Reports each checkpoint as the count passes it.
import OpenAI from 'openai';

export const CALL_KINDS = ['chat', 'chat-stream', 'responses', 'responses-stream', 'embeddings'] as const;
export type CallKind = (typeof CALL_KINDS)[number];

// A long system prompt every chat call repeats (counted once, then from the server's count cache).
const SYSTEM =
  'You are a careful assistant for a small accounting firm. Answer in plain English, in short paragraphs, and say when you are unsure. ' +
  'Prefer concrete examples over abstractions, cite the rule you rely on, and never invent figures. When a question is ambiguous, ask one clarifying question first.';
const WORDS = ['ledger', 'credit', 'hold', 'settle', 'invoice', 'refund', 'balance', 'month', 'customer', 'statement', 'audit', 'charge', 'reserve', 'usage'];

/** A question of about 300 characters no other call sends: a cache of texts sees ever-new ones. */
function question(index: number): string {
  const words: string[] = [`Question ${index}:`];
  for (let i = 0; words.join(' ').length < 300; i++) words.push(WORDS[(index * 7 + i * 13 + (index >> i % 5)) % WORDS.length]!);
  return `${words.join(' ')}?`;
}

async function call(client: OpenAI, kind: CallKind, index: number): Promise<void> {
  const messages = [
    { role: 'system' as const, content: SYSTEM },
    { role: 'user' as const, content: question(index) },
  ];
  const model = index % 2 === 0 ? 'gpt-4o-mini' : 'gpt-4o';
  if (kind === 'chat') {
    await client.chat.completions.create({ model, messages, max_tokens: 64 });
  } else if (kind === 'chat-stream') {
    const stream = await client.chat.completions.create({ model, messages, max_tokens: 64, stream: true, stream_options: { include_usage: true } });
    for await (const _chunk of stream);
  } else if (kind === 'responses') {
    await client.responses.create({ model, instructions: SYSTEM, input: question(index), max_output_tokens: 64 });
  } else if (kind === 'responses-stream') {
    const stream = await client.responses.create({ model, instructions: SYSTEM, input: question(index), max_output_tokens: 64, stream: true });
    for await (const _event of stream);
  } else {
    await client.embeddings.create({ model: index % 2 === 0 ? 'text-embedding-3-small' : 'text-embedding-3-large', input: question(index) });
  }
}

export interface LoadResult {
  ok: number;
  failures: number;
  firstFailure: string | null;
  okByKind: Record<CallKind, number>;
  elapsedMs: number;
}

/**
 * `total` calls over `keys` (call i on key i mod keys, kind i mod 5) by `concurrency` workers; at each
 * count in `checkpoints`, `onCheckpoint(count)` runs while the others keep calling.
 */
export async function runMixedCalls(options: { url: string; keys: string[]; total: number; concurrency: number; checkpoints: number[]; onCheckpoint(count: number): void }): Promise<LoadResult> {
  const clients = options.keys.map((apiKey) => new OpenAI({ apiKey, baseURL: `${options.url}/v1`, maxRetries: 0, timeout: 60_000 }));
  const result: LoadResult = { ok: 0, failures: 0, firstFailure: null, okByKind: Object.fromEntries(CALL_KINDS.map((kind) => [kind, 0])) as Record<CallKind, number>, elapsedMs: 0 };
  const checkpoints = [...options.checkpoints].sort((a, b) => a - b);
  let next = 0;
  let done = 0;
  const startedMs = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.total) {
        const index = next++;
        const kind = CALL_KINDS[index % CALL_KINDS.length]!;
        try {
          await call(clients[index % clients.length]!, kind, index);
          result.ok++;
          result.okByKind[kind]++;
        } catch (error) {
          result.failures++;
          result.firstFailure ??= `${kind}: ${(error as Error).message}`;
        }
        done++;
        while (checkpoints.length > 0 && done >= checkpoints[0]!) options.onCheckpoint(checkpoints.shift()!);
      }
    }),
  );
  result.elapsedMs = performance.now() - startedMs;
  return result;
}
