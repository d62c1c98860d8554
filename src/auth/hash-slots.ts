// Admission to password hashing. One scrypt at production cost takes 128 MiB and about 0.35 s of a
// core, so at most MAX_RUNNING run at once. Up to MAX_WAITING more wait their turn, and one requester
// (a client address) holds at most MAX_PER_REQUESTER of the running and waiting places; anything
// beyond is refused at once instead of queued. A flood then gets quick refusals, and whoever is let
// in waits for at most MAX_WAITING / MAX_RUNNING hashes ahead of their own.
export const MAX_RUNNING = 2;
export const MAX_WAITING = 4;
export const MAX_PER_REQUESTER = 2;
/** What a refused request is told to wait: about the time the full queue takes to drain at production cost. */
export const FULL_RETRY_AFTER_SECONDS = 2;

export class HashSlotsFullError extends Error {
  override name = 'HashSlotsFullError';
  readonly retryAfterSeconds = FULL_RETRY_AFTER_SECONDS;
  /** 'requester': this address already holds its share; 'everyone': every place is taken. */
  constructor(readonly full: 'requester' | 'everyone') {
    super(full === 'requester' ? 'this requester holds its share of the password hasher' : 'the password hasher queue is full');
  }
}

let running = 0;
let peakRunning = 0;
const waiting: (() => void)[] = [];
const placesByRequester = new Map<string, number>();

/** The most hashes that ever ran at once in this process (the limit is MAX_RUNNING): for tests. */
export function peakConcurrentHashes(): number {
  return peakRunning;
}

/**
 * Runs `work` in a hashing slot, or throws HashSlotsFullError before it starts. `requester` is the
 * client's address; null is a trusted local caller (the CLI), which has no share but still queues.
 */
export async function inHashSlot<T>(requester: string | null, work: () => Promise<T>): Promise<T> {
  const held = requester === null ? 0 : (placesByRequester.get(requester) ?? 0);
  if (held >= MAX_PER_REQUESTER) throw new HashSlotsFullError('requester');
  if (running >= MAX_RUNNING && waiting.length >= MAX_WAITING) throw new HashSlotsFullError('everyone');
  if (requester !== null) placesByRequester.set(requester, held + 1);
  try {
    // A finished hash hands its slot straight to the next waiter, so nobody can slip in between.
    if (running < MAX_RUNNING) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    peakRunning = Math.max(peakRunning, running);
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  } finally {
    if (requester !== null) {
      const left = placesByRequester.get(requester)! - 1;
      if (left === 0) placesByRequester.delete(requester);
      else placesByRequester.set(requester, left);
    }
  }
}
