// Sliding-window limits stored in the database: each event (a sign-in attempt, a reset request) is a
// row under a scope key such as `login-ip:203.0.113.7`, and a limit allows `limit` events per
// `window_ms` in its scope. takeEvents checks and records in one write transaction that holds its
// scopes' locks (src/db/locks.ts), so concurrent requests, in this process or another, can never get
// past a limit together.
import type { DB } from '../db/connect.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { lockNames } from '../db/locks.ts';

export interface WindowLimit {
  scopeKey: string;
  limit: number;
  window_ms: number;
}

/** No limit may count over a longer window: older events are deleted. */
export const LONGEST_WINDOW_MS = 60 * 60 * 1000;

/** Seconds until every limit has room for one more event; 0 when all have room now. */
async function secondsUntilRoom(trx: Trx, nowMs: number, limits: readonly WindowLimit[]): Promise<number> {
  let waitMs = 0;
  for (const { scopeKey, limit, window_ms } of limits) {
    // Only the limit-th most recent event is read (a key's requests per minute may allow thousands).
    const limitTh = await trx
      .selectFrom('rate_limit_events')
      .select('created_at_ms')
      .where('scope_key', '=', scopeKey)
      .where('created_at_ms', '>', nowMs - window_ms)
      .orderBy('created_at_ms', 'desc')
      .limit(1)
      .offset(limit - 1)
      .executeTakeFirst();
    // There is room again when the oldest of the last `limit` events leaves the window.
    if (limitTh) waitMs = Math.max(waitMs, Number(limitTh.created_at_ms) + window_ms - nowMs);
  }
  return Math.ceil(waitMs / 1000);
}

export type Taken = { taken: true; eventIds: number[] } | { taken: false; retryAfterSeconds: number };

/**
 * Inside the caller's write transaction: when every limit has room, records one event in each scope
 * (ids in the order of `limits`); otherwise records nothing and says how long to wait.
 */
export async function takeEventsIn(trx: Trx, nowMs: number, limits: readonly WindowLimit[]): Promise<Taken> {
  for (const { window_ms } of limits) if (window_ms > LONGEST_WINDOW_MS) throw new Error(`a rate window of ${window_ms} ms is longer than ${LONGEST_WINDOW_MS} ms`);
  // Counted and recorded under the scopes' locks. A caller taking several calls' scopes in one
  // transaction takes them in one order (an address before an email), so no two wait in a circle.
  await lockNames(trx, limits.map((l) => `rate-window:${l.scopeKey}`));
  await trx.deleteFrom('rate_limit_events').where('created_at_ms', '<=', nowMs - LONGEST_WINDOW_MS).execute();
  // A scope is always counted over one window, so its events past it never count again: a busy
  // scope (a key allowed thousands of requests a minute) keeps one window of rows, not an hour's.
  for (const { scopeKey, window_ms } of limits) {
    if (window_ms < LONGEST_WINDOW_MS) await trx.deleteFrom('rate_limit_events').where('scope_key', '=', scopeKey).where('created_at_ms', '<=', nowMs - window_ms).execute();
  }
  const retryAfterSeconds = await secondsUntilRoom(trx, nowMs, limits);
  if (retryAfterSeconds > 0) return { taken: false, retryAfterSeconds };
  const eventIds: number[] = [];
  for (const { scopeKey } of limits) {
    const row = await trx.insertInto('rate_limit_events').values({ scope_key: scopeKey, created_at_ms: nowMs }).returning('id').executeTakeFirstOrThrow();
    eventIds.push(row.id);
  }
  return { taken: true, eventIds };
}

/** takeEventsIn in a transaction of its own. Losing these rows on power failure is harmless: no fsync. */
export function takeEvents(db: DB, nowMs: number, limits: readonly WindowLimit[]): Promise<Taken> {
  return writeTransaction(db, (trx) => takeEventsIn(trx, nowMs, limits), { durable: false });
}

export async function forgetEvents(db: DB, eventIds: readonly number[]): Promise<void> {
  if (eventIds.length > 0) await db.deleteFrom('rate_limit_events').where('id', 'in', eventIds).execute();
}

export async function forgetScope(db: DB, scopeKey: string): Promise<void> {
  await db.deleteFrom('rate_limit_events').where('scope_key', '=', scopeKey).execute();
}
