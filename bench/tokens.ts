// bench:tokens — how the hold's input count grows with the prompt: µs per KB from 16 KB to 4 MB
// for ordinary prose, one repeated letter, a run of "é" and random base64, counted as the gateway
// counts a prompt (countChatInputTokens, paced). Goal: linear, i.e. about the same µs per KB at
// every size (largest ÷ smallest per-KB time near 1).
import { loadavg } from 'node:os';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { countChatInputTokens } from '../src/gateway/tokens.ts';
import { prose, randomBase64, run } from '../test/helpers/texts.ts';
import { appendResults, machine } from './machine.ts';

const KB = 1024;
const SIZES_KB = [16, 64, 256, 1024, 4096];
/** Each size is counted again until this much time has gone by (MIN_ROUNDS at least), the median kept. */
const MIN_MS_PER_SIZE = Number(process.env.BENCH_MS ?? 1_500);
const MIN_ROUNDS = 3;

const KINDS: Record<string, (bytes: number, round: number) => string> = {
  prose: (bytes, round) => prose(bytes, round + 1),
  'one letter ("a")': (bytes) => run('a', bytes),
  '"é" run': (bytes) => run('é', bytes),
  'random base64': (bytes) => randomBase64(bytes),
};

function sizeLabel(kb: number): string {
  return kb >= 1024 ? `${kb / 1024} MB` : `${kb} KB`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Counts a prompt as the gateway does; returns the time taken in ms. */
async function timeCount(text: string): Promise<number> {
  const started = performance.now();
  await countChatInputTokens({ messages: [{ role: 'user', content: text }] });
  return performance.now() - started;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  console.log(`bench:tokens on ${machine()}, load ${loadAtStart.toFixed(2)}`);
  // Warm up (the JIT, the tokenizer's tables) before anything is timed.
  for (const make of Object.values(KINDS)) for (let round = 0; round < 20; round++) await countChatInputTokens({ messages: [{ role: 'user', content: `w${round} ${make(64 * KB, round)}` }] });

  const rows: string[] = [];
  const summary: string[] = [];
  for (const [kind, make] of Object.entries(KINDS)) {
    const perKb: number[] = [];
    for (const kb of SIZES_KB) {
      const times: number[] = [];
      const until = performance.now() + MIN_MS_PER_SIZE;
      // A new text each round, so no count is taken from the cache of long message texts.
      for (let round = 0; times.length < MIN_ROUNDS || performance.now() < until; round++) {
        times.push(await timeCount(`${round} ${make(kb * KB - String(round).length - 1, round)}`));
      }
      const usPerKb = (median(times) * 1000) / kb;
      perKb.push(usPerKb);
      console.log(`${kind.padEnd(18)} ${sizeLabel(kb).padStart(6)}: ${usPerKb.toFixed(1)} µs/KB (${times.length} rounds)`);
    }
    const ratio = Math.max(...perKb) / Math.min(...perKb);
    const growth = perKb.at(-1)! / perKb[0]!;
    rows.push(`| ${kind} | ${perKb.map((value) => value.toFixed(1)).join(' | ')} | ${ratio.toFixed(2)} | ${growth.toFixed(2)} |`);
    summary.push(`${kind}: largest ÷ smallest ${ratio.toFixed(2)}, 4 MB ÷ 16 KB ${growth.toFixed(2)}`);
  }

  // The tokenizer alone, as the gateway counted before: quadratic in an unbroken run.
  const before: string[] = [];
  for (const [kind, make] of Object.entries(KINDS)) {
    const cells = [16, 64].map((kb) => {
      const text = make(kb * KB, 99);
      const started = performance.now();
      countTokens(text, { disallowedSpecial: new Set<string>() });
      return (((performance.now() - started) * 1000) / kb).toFixed(1);
    });
    before.push(`| ${kind} | ${cells.join(' | ')} |`);
  }

  const loadAtEnd = loadavg()[0]!;
  const lines = [
    `Input counted as one user message with countChatInputTokens (the gateway's hold count, paced with the event loop); a new text each round, the median of the rounds in ${MIN_MS_PER_SIZE} ms (${MIN_ROUNDS} at least). Load average at start ${loadAtStart.toFixed(2)}, at end ${loadAtEnd.toFixed(2)} (the machine is shared).`,
    '',
    `| input | ${SIZES_KB.map((kb) => `${sizeLabel(kb)} (µs/KB)`).join(' | ')} | largest ÷ smallest per-KB time | ${sizeLabel(SIZES_KB.at(-1)!)} ÷ ${sizeLabel(SIZES_KB[0]!)} per-KB time |`,
    `|---|${SIZES_KB.map(() => '---').join('|')}|---|---|`,
    ...rows,
    '',
    'The tokenizer alone (gpt-tokenizer countTokens, how the count was made before), for comparison:',
    '',
    '| input | 16 KB (µs/KB) | 64 KB (µs/KB) |',
    '|---|---|---|',
    ...before,
  ];
  console.log(summary.join('\n'));
  console.log(lines.join('\n'));
  appendResults('bench:tokens', lines);
}

await main();
