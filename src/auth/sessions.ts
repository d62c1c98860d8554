// Sessions after Lucia's guide: a random token in the cookie, its SHA-256 as the stored id,
// 30 days, renewed when less than half is left, invalidated one by one or all for a user.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Session, User } from '../db/schema.ts';
import { hashToken, randomToken } from './tokens.ts';

export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export function generateSessionToken(): string {
  return randomToken(20);
}

export async function createSession(db: DB, clock: Clock, token: string, userId: number): Promise<Session> {
  const session: Session = {
    id: hashToken(token),
    user_id: userId,
    expires_at_ms: clock.now() + SESSION_LIFETIME_MS,
    created_at_ms: clock.now(),
  };
  await db.insertInto('sessions').values(session).execute();
  return session;
}

export interface SessionValidation {
  session: Session;
  user: User;
  /** True when the expiry moved: the cookie must be sent again with the new date. */
  renewed: boolean;
}

export async function validateSessionToken(db: DB, clock: Clock, token: string): Promise<SessionValidation | null> {
  const sessionId = hashToken(token);
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id as session_id', 'sessions.expires_at_ms', 'sessions.created_at_ms as session_created_at_ms'])
    .selectAll('users')
    .where('sessions.id', '=', sessionId)
    .executeTakeFirst();
  if (!row) return null;
  const nowMs = clock.now();
  const { session_id, expires_at_ms, session_created_at_ms, ...user } = row;
  const session: Session = { id: session_id, user_id: user.id, expires_at_ms, created_at_ms: session_created_at_ms };
  // A disabled user's sessions were ended when it was disabled; one that slipped past that ends here.
  if (nowMs >= expires_at_ms || user.disabled_at_ms !== null) {
    await invalidateSession(db, sessionId);
    return null;
  }
  let renewed = false;
  if (nowMs >= expires_at_ms - SESSION_LIFETIME_MS / 2) {
    session.expires_at_ms = nowMs + SESSION_LIFETIME_MS;
    await db.updateTable('sessions').set({ expires_at_ms: session.expires_at_ms }).where('id', '=', sessionId).execute();
    renewed = true;
  }
  return { session, user, renewed };
}

export async function invalidateSession(db: DB, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

export async function invalidateUserSessions(db: DB, userId: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

/** A user's newest sessions (when each began and ends), at most `limit`: for the operator console. */
export function recentSessionsOf(db: DB, userId: number, limit: number): Promise<Pick<Session, 'created_at_ms' | 'expires_at_ms'>[]> {
  return db.selectFrom('sessions').select(['created_at_ms', 'expires_at_ms']).where('user_id', '=', userId).orderBy('created_at_ms', 'desc').limit(limit).execute();
}
