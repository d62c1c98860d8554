// Users and their wallets: created together, found by email case-insensitively.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { User } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';

export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
  constructor(readonly email: string) {
    super(`a user with email ${email} already exists`);
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A deliberately plain check: something@something.something, no spaces. */
export function isPlausibleEmail(email: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) && email.length <= 254;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  isAdmin?: boolean;
}

export function createUser(db: DB, clock: Clock, input: NewUser): Promise<User> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const normalized = normalizeEmail(input.email);
    const taken = await trx.selectFrom('users').select('id').where('email_normalized', '=', normalized).executeTakeFirst();
    if (taken) throw new EmailTakenError(input.email.trim());
    const user = await trx
      .insertInto('users')
      .values({
        email: input.email.trim(),
        email_normalized: normalized,
        password_hash: input.passwordHash,
        is_admin: input.isAdmin ? 1 : 0,
        created_at_ms: nowMs,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('wallets').values({ user_id: user.id, balance_mc: 0, held_mc: 0, updated_at_ms: nowMs }).execute();
    return user;
  });
}

export async function findUserById(db: DB, userId: number): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
}

export async function findUserByEmail(db: DB, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email_normalized', '=', normalizeEmail(email)).executeTakeFirst();
}
