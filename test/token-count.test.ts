// Token counts in linear time: exact on ordinary text, never below the tokenizer's count on runs
// it would take quadratic time over, counted in turns with the event loop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { countChatInputTokens, countTextTokens, splitTextByTokens, truncateTextToTokens } from '../src/gateway/tokens.ts';
import { LONG_PIECE_CHARS, SPAN_CHARS, runAtOnce, textTokenSteps } from '../src/gateway/token-count.ts';
import { prose, randomBase64, run } from './helpers/texts.ts';

/** The tokenizer's own count, special tokens as plain text (what the upstream counts). */
const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set<string>() });
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

const CODE = `export function fib(n: number): number {\n  if (n < 2) return n;\n\treturn fib(n - 1) + fib(n - 2); // 🐢\n}\n\nconst x = { "a": [1, 2, 3], b: 'text' };\n`;
const CJK = '東京は日本の首都です。人口は約一千四百万人で、世界有数の大都市圏を形成しています。今日はいい天気ですね！한국어 문장도 있습니다.';
const EMOJI = 'Party 🎉🎉 time 👩‍👩‍👧‍👦 with flags 🇫🇷🇯🇵 and ✨sparkles✨ — “quotes” ‘too’…';
const ORDINARY: Record<string, string> = {
  prose: prose(40_000),
  code: CODE.repeat(200),
  cjk: CJK.repeat(150),
  emoji: EMOJI.repeat(300),
  base64: randomBase64(30_000),
  json: JSON.stringify({ items: Array.from({ length: 500 }, (_, index) => ({ id: index, name: `item ${index}`, tags: ['a', 'b'], price: index * 1.25 })) }),
  'special-token spellings': '<|endoftext|> and <|im_start|>user\n'.repeat(400),
  'runs just under the limit': `${'x'.repeat(LONG_PIECE_CHARS)} ${' '.repeat(LONG_PIECE_CHARS - 1)}y${'!'.repeat(LONG_PIECE_CHARS - 1)}\n`.repeat(20),
};

test('ordinary text is counted exactly as the tokenizer counts it, spans and all', () => {
  for (const [name, text] of Object.entries(ORDINARY)) {
    assert.ok(text.length > 2 * SPAN_CHARS || name === 'runs just under the limit', `${name} spans several steps`);
    assert.is(countTextTokens(text), exact(text), name);
  }
});

test('a chat request of ordinary text is not over-held: its count is the exact count plus the framing', async () => {
  const text = ORDINARY.prose!;
  assert.is(await countChatInputTokens({ messages: [{ role: 'user', content: text }] }), 3 + 1 + exact(text) + 3);
});

test('a step that ends after whitespace before a non-space still counts exactly (the regex looks one character ahead)', () => {
  // In "x x … x   5" the spaces are cut "  " + " " (2 tokens), but alone at the end of a span
  // they would make one "   " (1 token). Each lead length moves the first step's end by one
  // character, so one of them ends it just before the 5.
  assert.is(exact('   '), 1);
  assert.is(exact('  ') + exact(' '), 2);
  for (let lead = 1; lead <= 8; lead++) {
    const filler = `${'x'.repeat(lead)}${' x'.repeat(Math.floor((SPAN_CHARS - 3 - lead) / 2))}`;
    const text = `${filler}   5 and more`;
    assert.is(countTextTokens(text), exact(text), `lead ${lead}`);
  }
  for (let seed = 1; seed <= 20; seed++) {
    const text = randomWhitespaceText(3 * SPAN_CHARS, seed);
    assert.is(countTextTokens(text), exact(text), `whitespace mix ${seed}`);
  }
});

test('text with runs the tokenizer would take quadratic time over is bounded: never below its count, at most its bytes', () => {
  const runs: Record<string, string> = {
    'a run': run('a', 3_000),
    'é run': run('é', 3_000),
    'CJK run': run('中', 3_000),
    'emoji run': run('🎉', 3_000),
    'spaces before a word': `${' '.repeat(3_000)}word`,
    newlines: '\n'.repeat(3_000),
    punctuation: '!?'.repeat(1_500),
    'random lowercase': Array.from({ length: 2_000 }, (_, index) => String.fromCharCode(97 + ((index * 7919) % 26))).join(''),
    'runs inside prose': `${prose(5_000)}${run('z', 2_000)}${prose(5_000, 2)} ${run('ü', 2_000)}.`,
  };
  for (const [name, text] of Object.entries(runs)) {
    const counted = countTextTokens(text);
    assert.ok(counted >= exact(text), `${name}: ${counted} ≥ ${exact(text)}`);
    assert.ok(counted <= bytes(text), `${name}: ${counted} ≤ ${bytes(text)} bytes`);
  }
  assert.is(countTextTokens(run('a', 4_000_000)), 4_000_000, '4 MB of one letter: its bytes, counted in linear time');
  assert.is(countTextTokens(run('é', 4_000_000)), 4_000_000);
});

test('truncating and splitting hostile text stays within the count and keeps every character', () => {
  const long = `${run('é', 2_000_000)} and ${run('🎉', 400_000)}`;
  const prefix = truncateTextToTokens(long, 50);
  assert.ok(long.startsWith(prefix) && prefix.length > 0);
  assert.ok(countTextTokens(prefix) <= 50);
  assert.not.match(prefix, /\uFFFD/);
  const pieces = splitTextByTokens(run('🎉', 200_000), 3);
  assert.is(pieces.join(''), run('🎉', 200_000));
  for (const piece of pieces) assert.not.match(piece, /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/, 'no emoji cut in half');
});

test('a count told where to stop returns once past it, having read only so far; under it, the whole count', () => {
  const text = prose(40_000);
  const whole = countTextTokens(text);
  assert.is(runAtOnce(textTokenSteps(text, whole)), whole, 'a limit the text reaches but does not pass');
  const stopped = runAtOnce(textTokenSteps(text, 100));
  assert.ok(stopped > 100 && stopped < 100 + SPAN_CHARS, `stopped at ${stopped} of ${whole}`);
  // A 4 MB unbroken run stops after its first (only) piece: its bytes.
  const startedMs = performance.now();
  assert.is(runAtOnce(textTokenSteps('a'.repeat(4_000_000), 8_192)), 4_000_000);
  assert.ok(performance.now() - startedMs < 1_000);
});

test('a large count gives the event loop turns and can be stopped', async () => {
  const text = prose(1_000_000);
  let turns = 0;
  const counting = setInterval(() => turns++, 0);
  try {
    assert.is(await countChatInputTokens({ messages: [{ role: 'user', content: text }] }), 3 + 1 + exact(text) + 3);
  } finally {
    clearInterval(counting);
  }
  assert.ok(turns > 0, 'timers ran while the count was going on');

  // Many short messages pause as well.
  let manyTurns = 0;
  const many = setInterval(() => manyTurns++, 0);
  await countChatInputTokens({ messages: Array.from({ length: 5_000 }, (_, index) => ({ role: 'user', content: prose(200, index) })) });
  clearInterval(many);
  assert.ok(manyTurns > 0);

  const controller = new AbortController();
  const stopped = countChatInputTokens({ messages: [{ role: 'user', content: prose(1_000_000, 3) }] }, controller.signal);
  controller.abort(new Error('client gone'));
  try {
    await stopped;
    assert.unreachable('the count was stopped');
  } catch (error) {
    assert.is((error as Error).message, 'client gone');
  }
});

/** Words, digits and punctuation between runs of spaces, tabs and newlines of every kind. */
function randomWhitespaceText(length: number, seed: number): string {
  let state = seed;
  const next = (n: number) => {
    state = (state * 48_271) % 2_147_483_647;
    return state % n;
  };
  const parts = ['word', 'Word', '42', '7', '!', '—', 'é', '中文', '🎉', ':', '"', "'s"];
  const spaces = [' ', '  ', '   ', '\t', '\n', '\n\n', ' \n', '\n ', '\u00a0', '\u3000', '\r\n', '        '];
  let text = '';
  while (text.length < length) text += spaces[next(spaces.length)]! + parts[next(parts.length)]!;
  return text;
}

test.run();
