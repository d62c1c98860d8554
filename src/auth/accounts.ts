// What a person does with their account: sign up, sign in, change password or email. Returns field
// errors for forms; knows nothing about HTTP or cookies. Password resets are in password-reset.ts.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { User } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { createUser, EmailTakenError, findUserByEmail, isPlausibleEmail, normalizeEmail } from '../users/users.ts';
import type { Hasher } from './hasher.ts';
import { passwordProblem } from './hasher.ts';
import { HashSlotsFullError } from './hash-slots.ts';
import { invalidatePendingResets } from './reset-links.ts';
import { invalidateUserSessions } from './sessions.ts';
import { beginLoginAttempt, loginSucceeded, withdrawLoginAttempt } from './throttle.ts';

export type FieldErrors = Record<string, string>;
/** A refusal: the form's errors and, when the person was limited rather than wrong, when to try again. */
export interface Failure {
  ok: false;
  errors: FieldErrors;
  retryAfterSeconds?: number;
}
export type Outcome<T> = { ok: true; value: T } | Failure;

export const fail = (errors: FieldErrors): Failure => ({ ok: false, errors });

export interface AccountDeps {
  db: DB;
  clock: Clock;
  hasher: Hasher;
  adminEmails: readonly string[];
  publicUrl: string;
}

export function emailProblem(email: string): string | null {
  if (email.trim() === '') return 'Enter your email address.';
  if (!isPlausibleEmail(email)) return 'Enter an email address like name@example.com.';
  return null;
}

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;

/** The person was limited, not wrong: `what` happened, and when to try again. */
export function limited(retryAfterSeconds: number, what: string): Failure {
  const wait = retryAfterSeconds < 60 ? plural(retryAfterSeconds, 'second') : plural(Math.ceil(retryAfterSeconds / 60), 'minute');
  return { ok: false, retryAfterSeconds, errors: { form: `${what} Try again in ${wait}.` } };
}

/** The hasher had no room (src/auth/hash-slots.ts): nothing was checked or changed. */
function hasherFull(error: HashSlotsFullError): Failure {
  const what = error.full === 'requester' ? 'Your address already has several passwords being checked.' : 'Too many passwords are being checked right now.';
  return limited(error.retryAfterSeconds, what);
}

/** Runs work that hashes a password, turning a full hasher into a refusal the person can act on. */
export async function whenHasherHasRoom<T>(work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HashSlotsFullError) return hasherFull(error);
    throw error;
  }
}

/** `ip` is the client's address, which the hasher's queue is shared by. */
export async function signUp(deps: AccountDeps, email: string, password: string, ip: string): Promise<Outcome<User>> {
  const errors: FieldErrors = {};
  const badEmail = emailProblem(email);
  if (badEmail) errors.email = badEmail;
  const badPassword = passwordProblem(password);
  if (badPassword) errors.password = badPassword;
  if (Object.keys(errors).length > 0) return fail(errors);
  return whenHasherHasRoom(async () => {
    try {
      const user = await createUser(deps.db, deps.clock, {
        email,
        passwordHash: await deps.hasher.hash(password, ip),
        isAdmin: deps.adminEmails.includes(normalizeEmail(email)),
      });
      return { ok: true, value: user };
    } catch (error) {
      if (error instanceof EmailTakenError) return fail({ email: 'An account with this email already exists. Sign in instead.' });
      throw error;
    }
  });
}

/**
 * Both failures (unknown email, wrong password) read the same and cost one scrypt each. The attempt
 * is counted before the password is checked (src/auth/throttle.ts).
 */
export async function logIn(deps: AccountDeps, email: string, password: string, ip: string): Promise<Outcome<User>> {
  const begun = await beginLoginAttempt(deps.db, deps.clock, email, ip);
  if (!begun.allowed) return limited(begun.retryAfterSeconds, 'Too many failed sign-ins.');
  const user = email.trim() === '' ? undefined : await findUserByEmail(deps.db, email);
  let matches: boolean;
  try {
    matches = user ? await deps.hasher.verify(password, user.password_hash, ip) : await deps.hasher.burn(password, ip);
  } catch (error) {
    if (!(error instanceof HashSlotsFullError)) throw error;
    await withdrawLoginAttempt(deps.db, begun.attempt);
    return hasherFull(error);
  }
  if (!user || !matches) return fail({ form: 'That email and password do not match an account.' });
  // Told only to someone who knows the password: it says no more than the account's owner may know.
  if (user.disabled_at_ms !== null) return fail({ form: 'This account is disabled. Ask the operator of this site to enable it again.' });
  await loginSucceeded(deps.db, begun.attempt);
  return { ok: true, value: user };
}

/** Checks the current password, sets the new one, signs out every session and kills pending reset links. */
export async function changePassword(deps: AccountDeps, user: User, currentPassword: string, newPassword: string, ip: string): Promise<Outcome<void>> {
  return whenHasherHasRoom(async () => {
    if (!(await deps.hasher.verify(currentPassword, user.password_hash, ip))) return fail({ current_password: 'That is not your current password.' });
    const badPassword = passwordProblem(newPassword);
    if (badPassword) return fail({ new_password: badPassword });
    const passwordHash = await deps.hasher.hash(newPassword, ip);
    await writeTransaction(deps.db, async (trx) => {
      await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', user.id).execute();
      await invalidateUserSessions(trx, user.id);
      await invalidatePendingResets(trx, user.id);
    });
    return { ok: true, value: undefined };
  });
}

/** Checks the password and uniqueness, sets the new email and kills pending reset links (they went to the old one). */
export async function changeEmail(deps: AccountDeps, user: User, currentPassword: string, newEmail: string, ip: string): Promise<Outcome<void>> {
  const badEmail = emailProblem(newEmail);
  if (badEmail) return fail({ new_email: badEmail });
  return whenHasherHasRoom(async () => {
    if (!(await deps.hasher.verify(currentPassword, user.password_hash, ip))) return fail({ email_password: 'That is not your current password.' });
    const taken = await findUserByEmail(deps.db, newEmail);
    if (taken && taken.id !== user.id) return fail({ new_email: 'Another account uses this email.' });
    await writeTransaction(deps.db, async (trx) => {
      await trx
        .updateTable('users')
        .set({ email: newEmail.trim(), email_normalized: normalizeEmail(newEmail) })
        .where('id', '=', user.id)
        .execute();
      await invalidatePendingResets(trx, user.id);
    });
    return { ok: true, value: undefined };
  });
}
