// Sign-in throttling stored in the database: failures are counted per (account, IP) and per IP over
// a sliding window, so one address can't guess forever and nobody can lock another user out from
// their own address (the account is only ever limited together with the IP that failed).
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { normalizeEmail } from '../users/users.ts';

export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT_AND_IP = 10;
export const MAX_FAILURES_PER_IP = 50;

function scopes(email: string, ip: string) {
  return [
    { key: `account:${normalizeEmail(email)}|ip:${ip}`, limit: MAX_FAILURES_PER_ACCOUNT_AND_IP },
    { key: `ip:${ip}`, limit: MAX_FAILURES_PER_IP },
  ];
}

/** Seconds until another attempt is allowed, or 0 when it is allowed now. */
export async function loginRetryAfterSeconds(db: DB, clock: Clock, email: string, ip: string): Promise<number> {
  const since = clock.now() - THROTTLE_WINDOW_MS;
  let waitMs = 0;
  for (const scope of scopes(email, ip)) {
    const failures = await db
      .selectFrom('login_failures')
      .select('created_at_ms')
      .where('scope_key', '=', scope.key)
      .where('created_at_ms', '>', since)
      .orderBy('created_at_ms', 'desc')
      .limit(scope.limit)
      .execute();
    if (failures.length >= scope.limit) {
      // The attempt is allowed again when the oldest of the last `limit` failures leaves the window.
      const oldest = failures[failures.length - 1]!.created_at_ms;
      waitMs = Math.max(waitMs, oldest + THROTTLE_WINDOW_MS - clock.now());
    }
  }
  return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
}

export async function recordLoginFailure(db: DB, clock: Clock, email: string, ip: string): Promise<void> {
  const nowMs = clock.now();
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('login_failures').where('created_at_ms', '<=', nowMs - THROTTLE_WINDOW_MS).execute();
    await trx
      .insertInto('login_failures')
      .values(scopes(email, ip).map((s) => ({ scope_key: s.key, created_at_ms: nowMs })))
      .execute();
  });
}

/** A successful sign-in forgets that pair's failures (the IP's own count stays). */
export async function clearLoginFailures(db: DB, email: string, ip: string): Promise<void> {
  await db.deleteFrom('login_failures').where('scope_key', '=', scopes(email, ip)[0]!.key).execute();
}
