// Token counts of text in linear time: exact for ordinary text, an upper bound where the tokenizer
// would take quadratic time, counted a span at a time so a long text can share the event loop.
import { createRequire } from 'node:module';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { afterPollingIO } from '../event-loop.ts';

type Tokenizer = typeof import('gpt-tokenizer/encoding/o200k_base');
const requireHere = createRequire(import.meta.url);
let tokenizer: Tokenizer | null = null;

/**
 * The o200k tokenizer, loaded at its first use (its package's CommonJS build, so the first count
 * can load it at once): its ranks cost about 200–340 ms of CPU and 35 MB, which the server pays
 * just after it starts listening (src/server.ts calls this), not before (docs/architecture.md,
 * Start-up and memory).
 */
export function loadTokenizer(): Tokenizer {
  if (tokenizer === null) {
    tokenizer = requireHere('gpt-tokenizer/encoding/o200k_base') as Tokenizer;
    tokenizer.setMergeCacheSize(MERGES_KEPT);
  }
  return tokenizer;
}

function countTokens(text: string, options: typeof AS_PLAIN_TEXT): number {
  return (tokenizer ?? loadTokenizer()).countTokens(text, options);
}

// gpt-tokenizer throws on text that spells a special token such as "<|endoftext|>" unless told
// otherwise. A user's text is only ever text, so special tokens are counted as the plain
// characters they are, as the upstream does.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * gpt-tokenizer remembers the merges of the last 100,000 pieces by default, in a Map it evicts
 * from the front; that large, each eviction walks the holes earlier deletions left, and text of
 * ever-new pieces (random base64) counts at ≈ 7 µs a character instead of ≈ 1. A thousand recent
 * pieces keep most of what ordinary text reuses. The setting is the tokenizer module's, process-wide.
 * A piece it keeps is at most LONG_PIECE_CHARS long (longer ones never reach the tokenizer, below), so
 * the cache holds at most ≈ 1,000 × (512 bytes of text + 256 tokens × 8 bytes) ≈ 2.6 MB (docs/architecture.md, Caches).
 */
const MERGES_KEPT = 1_000;

/**
 * The tokenizer first cuts text into pieces with o200k's regex (a word with its leading space, up
 * to 3 digits, a run of punctuation, a run of whitespace), then merges each piece's bytes
 * separately, in time that grows with the square of the piece (gpt-tokenizer's bytePairMerge
 * rescans the piece for every merge): 10,000 × "a" takes 0.2 s, 100,000 × "a" 18 s. A piece
 * longer than this is not merged but counted as its UTF-8 bytes, which bounds its tokens: o200k
 * is byte-level, every token covers at least one byte. Words, numbers, punctuation runs, even a
 * CJK sentence between two commas are shorter, so ordinary text keeps its exact count; a piece
 * this long (at most 768 bytes) merges in about 1 µs a byte, as ordinary text does.
 */
export const LONG_PIECE_CHARS = 256;

/** Text handed to the tokenizer in one go at most: ≈ 1–5 ms even for the slowest text there is. */
export const SPAN_CHARS = 1_024;

/** How long a paced count runs before it gives the event loop a turn (see runPaced). */
export const PAUSE_AFTER_MS = 5;

/**
 * A text this long is counted after the event loop has polled for I/O: the request's body was just
 * read and parsed in the current turn (tens of ms for 4 MB), and the two together would hold the
 * loop for longer.
 */
export const FRESH_TURN_CHARS = 65_536;

// Sticky, and used with its lastIndex set before every test, so counts that interleave (paced ones
// run in turns) never see each other's position.
const pieceSplitter = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, 'uy');

/**
 * Where the piece that starts at `position` ends, as the tokenizer cuts the whole text (matched
 * with test(), not exec(): no array or string made for each of a text's pieces).
 */
function pieceEnd(text: string, position: number): number {
  pieceSplitter.lastIndex = position;
  // Every character starts a piece (letters, digits, whitespace and everything else each have an
  // alternative), so the match is always here; were it not, the rest of the text is one piece.
  return pieceSplitter.test(text) ? pieceSplitter.lastIndex : text.length;
}

const WHITESPACE_ONLY = /^\s+$/;
const WHITESPACE = /\s/;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The tokens of the pieces in text[start, end), where start and end are piece boundaries of the
 * whole text and lastPieceStart is where the last of those pieces starts.
 *
 * The tokenizer cuts text[start, end) alone into the same pieces as it cuts the whole text (the
 * regex looks neither behind nor for the end of the text), with one exception: `\s+(?!\S)` looks
 * one character ahead, and at the end of a span it sees nothing where the whole text has a
 * non-space. So a span whose last piece is whitespace before a non-space (the "  " and " " of
 * "abc   5", which alone would make one "   ") is counted without that piece, and the piece alone.
 */
function countSpan(text: string, start: number, end: number, lastPieceStart: number): number {
  if (start === end) return 0;
  const lastPieceSplitsAlone =
    lastPieceStart > start && end < text.length && !WHITESPACE.test(text[end]!) && WHITESPACE_ONLY.test(text.slice(lastPieceStart, end));
  if (lastPieceSplitsAlone) {
    return countTokens(text.slice(start, lastPieceStart), AS_PLAIN_TEXT) + countTokens(text.slice(lastPieceStart, end), AS_PLAIN_TEXT);
  }
  return countTokens(start === 0 && end === text.length ? text : text.slice(start, end), AS_PLAIN_TEXT);
}

/**
 * Counting in steps: yields after each step (a span, a long piece, a short text), returns the
 * count. Yields `PAUSE` to ask for a turn of the event loop whatever the time.
 */
export type CountSteps = Generator<typeof PAUSE | undefined, number, void>;
export const PAUSE = Symbol('pause');

/**
 * Counts `text` in steps. The pieces between long ones are counted by the tokenizer in spans of
 * about SPAN_CHARS (a piece's count does not depend on its neighbours, so the spans add up to the
 * whole text's count); a long piece adds its bytes. With `stopAboveTokens`, counting stops once the
 * count passes it and returns that partial count (above the limit, below the whole text's): for a
 * caller that only needs to know the text is over a limit, so a 4 MB text costs it one span or piece.
 */
export function* textTokenSteps(text: string, stopAboveTokens = Number.POSITIVE_INFINITY): CountSteps {
  if (text.length <= LONG_PIECE_CHARS) {
    const tokens = text === '' ? 0 : countTokens(text, AS_PLAIN_TEXT);
    yield;
    return tokens;
  }
  if (text.length >= FRESH_TURN_CHARS) yield PAUSE;
  let tokens = 0;
  let spanStart = 0;
  let lastPieceStart = 0;
  let position = 0;
  while (position < text.length) {
    const end = pieceEnd(text, position);
    if (end - position > LONG_PIECE_CHARS) {
      tokens += countSpan(text, spanStart, position, lastPieceStart) + utf8Bytes(text.slice(position, end));
      position = end;
      spanStart = lastPieceStart = position;
      yield;
      if (tokens > stopAboveTokens) return tokens;
      continue;
    }
    lastPieceStart = position;
    position = end;
    if (position - spanStart >= SPAN_CHARS) {
      tokens += countSpan(text, spanStart, position, lastPieceStart);
      spanStart = lastPieceStart = position;
      yield;
      if (tokens > stopAboveTokens) return tokens;
    }
  }
  tokens += countSpan(text, spanStart, position, lastPieceStart);
  yield;
  return tokens;
}

/** Runs count steps to the end at once: for texts known to be short. */
export function runAtOnce(steps: CountSteps): number {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs count steps, letting the event loop poll for I/O (see afterPollingIO) whenever
 * PAUSE_AFTER_MS have gone by or a step asks for it, so a 4 MB prompt (up to seconds of counting)
 * never holds other requests up for more than a few ms, while a prompt of ordinary size is
 * counted without a pause. Counting stays on the main thread on purpose: a worker would copy every
 * large prompt across threads and load a second copy of the tokenizer's ranks, for no more CPU
 * than the machine has, and the counts are the same whatever the timing. When `signal` aborts,
 * counting stops at the next pause with its reason.
 */
export async function runPaced(steps: CountSteps, signal?: AbortSignal): Promise<number> {
  let lastPauseMs = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (step.value === PAUSE || performance.now() - lastPauseMs >= PAUSE_AFTER_MS) {
      await afterPollingIO();
      signal?.throwIfAborted();
      lastPauseMs = performance.now();
    }
  }
}

/** Tokens of a piece of text as the model sees it (an upper bound for text with long pieces); 0 for ''. */
export function countTextTokens(text: string): number {
  return runAtOnce(textTokenSteps(text));
}

/** The tokens of several texts, counted in turns with the rest of the server. */
export function countTextsTokensPaced(texts: Iterable<string>): Promise<number> {
  return runPaced(
    (function* () {
      let tokens = 0;
      for (const text of texts) tokens += yield* textTokenSteps(text);
      return tokens;
    })(),
  );
}

/** How a long piece is cut for truncating and splitting: runs of whole characters, counted as their bytes. */
const LONG_PIECE_RUN_CHARS = 8;

/**
 * The text in the tokenizer's pieces, each with its token count as counted here: a short piece
 * exactly (its count alone is its count in the text), a long one in runs of whole characters
 * counted as their bytes. Lazy, so a caller that needs only the start reads only the start.
 */
export function* textPieces(text: string): Generator<{ text: string; tokenCount: number }, void, void> {
  let position = 0;
  while (position < text.length) {
    const end = pieceEnd(text, position);
    const piece = text.slice(position, end);
    position = end;
    if (piece.length <= LONG_PIECE_CHARS) {
      yield { text: piece, tokenCount: countTokens(piece, AS_PLAIN_TEXT) };
      continue;
    }
    for (let start = 0; start < piece.length; ) {
      let end = Math.min(start + LONG_PIECE_RUN_CHARS, piece.length);
      // Never between the two halves of a surrogate pair.
      const last = piece.charCodeAt(end - 1);
      if (end < piece.length && last >= 0xd800 && last <= 0xdbff) end++;
      const run = piece.slice(start, end);
      yield { text: run, tokenCount: utf8Bytes(run) };
      start = end;
    }
  }
}
