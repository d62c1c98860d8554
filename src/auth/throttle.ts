// Sign-in throttling: attempts are counted per (account, IP) and per IP over a sliding window, so one
// address can't guess forever and nobody can lock another user out from their own address (the
// account is only ever limited together with the IP that failed). An attempt is counted before its
// password is checked, in the transaction that checks the limits (src/auth/rate-window.ts), so however
// many arrive at once, no more than the limit are ever checked. It stays counted as a failure unless it
// succeeds, or is never checked at all (the hasher was full).
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { normalizeEmail } from '../users/users.ts';
import { forgetEvents, forgetScope, takeEvents, type WindowLimit } from './rate-window.ts';

export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT_AND_IP = 10;
export const MAX_FAILURES_PER_IP = 50;

function limits(email: string, ip: string): [pair: WindowLimit, address: WindowLimit] {
  return [
    { scopeKey: `login-account:${normalizeEmail(email)}|ip:${ip}`, limit: MAX_FAILURES_PER_ACCOUNT_AND_IP, window_ms: THROTTLE_WINDOW_MS },
    { scopeKey: `login-ip:${ip}`, limit: MAX_FAILURES_PER_IP, window_ms: THROTTLE_WINDOW_MS },
  ];
}

export interface LoginAttempt {
  pairScopeKey: string;
  /** This attempt's events: the pair's, then the address's. */
  eventIds: number[];
}

/** Counts one attempt, or says in how many seconds one is allowed again. */
export async function beginLoginAttempt(
  db: DB,
  clock: Clock,
  email: string,
  ip: string,
): Promise<{ allowed: true; attempt: LoginAttempt } | { allowed: false; retryAfterSeconds: number }> {
  const scopes = limits(email, ip);
  const taken = await takeEvents(db, clock.now(), scopes);
  if (!taken.taken) return { allowed: false, retryAfterSeconds: taken.retryAfterSeconds };
  return { allowed: true, attempt: { pairScopeKey: scopes[0].scopeKey, eventIds: taken.eventIds } };
}

/** The password was never checked (the hasher refused it): the attempt does not count. */
export async function withdrawLoginAttempt(db: DB, attempt: LoginAttempt): Promise<void> {
  await forgetEvents(db, attempt.eventIds);
}

/** A successful sign-in forgets that pair's failures and itself; the IP's earlier failures stay. */
export async function loginSucceeded(db: DB, attempt: LoginAttempt): Promise<void> {
  await forgetScope(db, attempt.pairScopeKey);
  await forgetEvents(db, attempt.eventIds);
}
