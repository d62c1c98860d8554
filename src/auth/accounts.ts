// What a person does with their account: sign up, sign in, change password or email, reset a
// forgotten password. Returns field errors for forms; knows nothing about HTTP or cookies.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { User } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { queueMail } from '../mail/outbox.ts';
import { createUser, EmailTakenError, findUserByEmail, isPlausibleEmail, normalizeEmail } from '../users/users.ts';
import type { Hasher } from './hasher.ts';
import { passwordProblem } from './hasher.ts';
import { invalidateUserSessions } from './sessions.ts';
import { clearLoginFailures, loginRetryAfterSeconds, recordLoginFailure } from './throttle.ts';
import { hashToken, randomToken } from './tokens.ts';

export type FieldErrors = Record<string, string>;
export type Outcome<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

const fail = (errors: FieldErrors): { ok: false; errors: FieldErrors } => ({ ok: false, errors });

export interface AccountDeps {
  db: DB;
  clock: Clock;
  hasher: Hasher;
  adminEmails: readonly string[];
  publicUrl: string;
}

function emailProblem(email: string): string | null {
  if (email.trim() === '') return 'Enter your email address.';
  if (!isPlausibleEmail(email)) return 'Enter an email address like name@example.com.';
  return null;
}

export async function signUp(deps: AccountDeps, email: string, password: string): Promise<Outcome<User>> {
  const errors: FieldErrors = {};
  const badEmail = emailProblem(email);
  if (badEmail) errors.email = badEmail;
  const badPassword = passwordProblem(password);
  if (badPassword) errors.password = badPassword;
  if (Object.keys(errors).length > 0) return fail(errors);
  try {
    const user = await createUser(deps.db, deps.clock, {
      email,
      passwordHash: await deps.hasher.hash(password),
      isAdmin: deps.adminEmails.includes(normalizeEmail(email)),
    });
    return { ok: true, value: user };
  } catch (error) {
    if (error instanceof EmailTakenError) return fail({ email: 'An account with this email already exists. Sign in instead.' });
    throw error;
  }
}

export type LogInResult = { ok: true; value: User } | { ok: false; errors: FieldErrors; retryAfterSeconds?: number };

/** Both failures (unknown email, wrong password) read the same and cost one scrypt each. */
export async function logIn(deps: AccountDeps, email: string, password: string, ip: string): Promise<LogInResult> {
  const retryAfterSeconds = await loginRetryAfterSeconds(deps.db, deps.clock, email, ip);
  if (retryAfterSeconds > 0) {
    const minutes = Math.ceil(retryAfterSeconds / 60);
    return { ok: false, retryAfterSeconds, errors: { form: `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` } };
  }
  const user = email.trim() === '' ? undefined : await findUserByEmail(deps.db, email);
  const matches = user ? await deps.hasher.verify(password, user.password_hash) : await deps.hasher.burn(password);
  if (!user || !matches) {
    await recordLoginFailure(deps.db, deps.clock, email, ip);
    return fail({ form: 'That email and password do not match an account.' });
  }
  await clearLoginFailures(deps.db, email, ip);
  return { ok: true, value: user };
}

/** Checks the current password, sets the new one and signs out every session of the user. */
export async function changePassword(deps: AccountDeps, user: User, currentPassword: string, newPassword: string): Promise<Outcome<void>> {
  if (!(await deps.hasher.verify(currentPassword, user.password_hash))) return fail({ current_password: 'That is not your current password.' });
  const badPassword = passwordProblem(newPassword);
  if (badPassword) return fail({ new_password: badPassword });
  await deps.db.updateTable('users').set({ password_hash: await deps.hasher.hash(newPassword) }).where('id', '=', user.id).execute();
  await invalidateUserSessions(deps.db, user.id);
  return { ok: true, value: undefined };
}

export async function changeEmail(deps: AccountDeps, user: User, currentPassword: string, newEmail: string): Promise<Outcome<void>> {
  const badEmail = emailProblem(newEmail);
  if (badEmail) return fail({ new_email: badEmail });
  if (!(await deps.hasher.verify(currentPassword, user.password_hash))) return fail({ email_password: 'That is not your current password.' });
  const taken = await findUserByEmail(deps.db, newEmail);
  if (taken && taken.id !== user.id) return fail({ new_email: 'Another account uses this email.' });
  await deps.db
    .updateTable('users')
    .set({ email: newEmail.trim(), email_normalized: normalizeEmail(newEmail) })
    .where('id', '=', user.id)
    .execute();
  return { ok: true, value: undefined };
}

export const RESET_LIFETIME_MS = 60 * 60 * 1000;

/**
 * Queues a single-use, one-hour reset link in the same transaction as its token. Unknown emails
 * do nothing, and the caller says the same thing either way, so the form reveals no accounts.
 */
export async function requestPasswordReset(deps: AccountDeps, email: string): Promise<Outcome<void>> {
  const badEmail = emailProblem(email);
  if (badEmail) return fail({ email: badEmail });
  const user = await findUserByEmail(deps.db, email);
  if (!user) return { ok: true, value: undefined };
  const token = randomToken(20);
  await writeTransaction(deps.db, async (trx) => {
    const nowMs = deps.clock.now();
    await trx
      .insertInto('password_resets')
      .values({ user_id: user.id, token_hash: hashToken(token), expires_at_ms: nowMs + RESET_LIFETIME_MS, used_at_ms: null, created_at_ms: nowMs })
      .execute();
    await queueMail(trx, nowMs, {
      to: user.email,
      subject: 'Reset your tokentab password',
      text: `Someone asked to reset the password of your tokentab account.\n\nTo choose a new password, open this link within one hour:\n${deps.publicUrl}/reset/${token}\n\nIf it was not you, ignore this email: your password stays as it is.\n`,
    });
  });
  return { ok: true, value: undefined };
}

async function usableReset(deps: AccountDeps, token: string) {
  return deps.db
    .selectFrom('password_resets')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('used_at_ms', 'is', null)
    .where('expires_at_ms', '>', deps.clock.now())
    .executeTakeFirst();
}

export async function isResetTokenUsable(deps: AccountDeps, token: string): Promise<boolean> {
  return (await usableReset(deps, token)) !== undefined;
}

/** Uses the token once: sets the password and signs out every session. */
export async function resetPassword(deps: AccountDeps, token: string, newPassword: string): Promise<Outcome<User>> {
  const badPassword = passwordProblem(newPassword);
  if (badPassword) return fail({ password: badPassword });
  const passwordHash = await deps.hasher.hash(newPassword);
  const user = await writeTransaction(deps.db, async (trx) => {
    const reset = await trx
      .updateTable('password_resets')
      .set({ used_at_ms: deps.clock.now() })
      .where('token_hash', '=', hashToken(token))
      .where('used_at_ms', 'is', null)
      .where('expires_at_ms', '>', deps.clock.now())
      .returning('user_id')
      .executeTakeFirst();
    if (!reset) return null;
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', reset.user_id).execute();
    await invalidateUserSessions(trx, reset.user_id);
    return trx.selectFrom('users').selectAll().where('id', '=', reset.user_id).executeTakeFirstOrThrow();
  });
  if (!user) return fail({ form: 'This reset link has expired or was already used. Ask for a new one.' });
  return { ok: true, value: user };
}
