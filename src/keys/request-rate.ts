// Requests per minute per key, counted in the database (rate_limit_events, src/auth/rate-window.ts)
// so the limit holds across every process sharing it: each request of a limited key is an event in
// the key's scope, taken in a write transaction under the scope's lock, or refused with the seconds
// until the oldest of the last minute's requests leaves the window. A key without a limit costs nothing.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { takeEvents } from '../auth/rate-window.ts';
import { KeyRateLimitedError } from './controls.ts';

export const REQUEST_RATE_WINDOW_MS = 60_000;

export async function takeKeyRequest(db: DB, clock: Clock, apiKeyId: number, requestsPerMinute: number | null): Promise<void> {
  if (requestsPerMinute === null) return;
  const taken = await takeEvents(db, clock.now(), [{ scopeKey: `key-rpm:${apiKeyId}`, limit: requestsPerMinute, window_ms: REQUEST_RATE_WINDOW_MS }]);
  if (!taken.taken) throw new KeyRateLimitedError(requestsPerMinute, taken.retryAfterSeconds);
}
