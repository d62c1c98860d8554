// Playground answers kept for the page a plain form's 303 leads to (so a refresh shows the answer
// again instead of sending, and charging, the prompt again): in this process's memory, for the user
// who asked, 10 minutes, bounded in count and bytes. Another process (several on one PostgreSQL
// database) or a restart has no copy; the page then says where the call is listed.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { PlaygroundResult, PlaygroundValues } from '../../views/playground.tsx';

const KEPT_FOR_MS = 10 * 60_000;
const KEPT_AT_MOST = 1_000;
/** Prompts can be 4 MB: at most 64 MB of them in all (UTF-16 strings, counted at 2 bytes a character). */
const KEPT_BYTES_AT_MOST = 64 * 1024 * 1024;

export interface KeptOutcome {
  userId: number;
  values: PlaygroundValues;
  result: PlaygroundResult;
}

const bytesOf = (outcome: KeptOutcome) => 2 * (outcome.values.prompt.length + (outcome.result.kind === 'reply' ? outcome.result.text.length : outcome.result.message.length)) + 512;

export function keptOutcomes() {
  const cache = new LRUCache<string, KeptOutcome>({ max: KEPT_AT_MOST, ttl: KEPT_FOR_MS, maxSize: KEPT_BYTES_AT_MOST, sizeCalculation: bytesOf });
  return {
    /** The token that names it in the redirect's URL. */
    keep(outcome: KeptOutcome): string {
      const token = randomBytes(16).toString('base64url');
      cache.set(token, outcome);
      return token;
    },
    /** Only to the user it was kept for; as often as the page is reloaded, until it expires. */
    find(token: string, userId: number): KeptOutcome | null {
      const outcome = token.length <= 64 ? cache.get(token) : undefined;
      return outcome && outcome.userId === userId ? outcome : null;
    },
  };
}
