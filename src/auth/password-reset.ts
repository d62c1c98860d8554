// A forgotten password: ask for a link by email, then use it once to choose a new password.
// Requests are limited per address (answered with a wait) and per email (silently: the answer is
// the same whether the email has an account, was limited or got a link). Both paths do the same
// work, one write transaction, so the answer's timing says nothing either; the route adds a floor.
import type { User } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { queueMail } from '../mail/outbox.ts';
import { normalizeEmail } from '../users/users.ts';
import { emailProblem, fail, limited, whenHasherHasRoom, type AccountDeps, type Outcome } from './accounts.ts';
import { passwordProblem } from './hasher.ts';
import { invalidatePendingResets, isResetLinkUsable, storeResetLink, useResetLink } from './reset-links.ts';
import { takeEventsIn } from './rate-window.ts';
import { invalidateUserSessions } from './sessions.ts';
import { randomToken } from './tokens.ts';

export const RESET_REQUEST_WINDOW_MS = 60 * 60 * 1000;
/** Links mailed to one email per window; requests past it are answered as usual and send nothing. */
export const MAX_RESET_MAILS_PER_EMAIL = 3;
/** Requests from one address per window, whatever the email; past it, 429. */
export const MAX_RESET_REQUESTS_PER_IP = 10;

/** Queues a single-use, one-hour reset link in the same transaction as its token, when the email has an account. */
export async function requestPasswordReset(deps: AccountDeps, email: string, ip: string): Promise<Outcome<void>> {
  const badEmail = emailProblem(email);
  if (badEmail) return fail({ email: badEmail });
  const token = randomToken(20);
  const normalized = normalizeEmail(email);
  return writeTransaction(deps.db, async (trx): Promise<Outcome<void>> => {
    const nowMs = deps.clock.now();
    const fromAddress = await takeEventsIn(trx, nowMs, [{ scopeKey: `reset-ip:${ip}`, limit: MAX_RESET_REQUESTS_PER_IP, window_ms: RESET_REQUEST_WINDOW_MS }]);
    if (!fromAddress.taken) return limited(fromAddress.retryAfterSeconds, 'Too many reset requests from your address.');
    // Counted for every email, with or without an account, so both paths write the same rows.
    const toEmail = await takeEventsIn(trx, nowMs, [{ scopeKey: `reset-email:${normalized}`, limit: MAX_RESET_MAILS_PER_EMAIL, window_ms: RESET_REQUEST_WINDOW_MS }]);
    const user = await trx.selectFrom('users').select(['id', 'email']).where('email_normalized', '=', normalized).executeTakeFirst();
    if (user && toEmail.taken) {
      await storeResetLink(trx, user.id, token, nowMs);
      await queueMail(trx, nowMs, {
        to: user.email,
        subject: 'Reset your tokentab password',
        text: `Someone asked to reset the password of your tokentab account.\n\nTo choose a new password, open this link within one hour:\n${deps.publicUrl}/reset/${token}\n\nIf it was not you, ignore this email: your password stays as it is.\n`,
      });
    }
    return { ok: true, value: undefined };
  });
}

export async function isResetTokenUsable(deps: AccountDeps, token: string): Promise<boolean> {
  return isResetLinkUsable(deps.db, token, deps.clock.now());
}

const deadLink = () => fail({ form: 'This reset link has expired or was already used. Ask for a new one.' });

/** Uses the token once: sets the password, signs out every session and kills the user's other links. */
export async function resetPassword(deps: AccountDeps, token: string, newPassword: string, ip: string): Promise<Outcome<User>> {
  const badPassword = passwordProblem(newPassword);
  if (badPassword) return fail({ password: badPassword });
  // A dead link costs no hash; the transaction below checks again, atomically.
  if (!(await isResetTokenUsable(deps, token))) return deadLink();
  return whenHasherHasRoom(async () => {
    const passwordHash = await deps.hasher.hash(newPassword, ip);
    const user = await writeTransaction(deps.db, async (trx) => {
      const userId = await useResetLink(trx, token, deps.clock.now());
      if (userId === undefined) return null;
      await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
      await invalidateUserSessions(trx, userId);
      await invalidatePendingResets(trx, userId);
      return trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    });
    return user ? { ok: true, value: user } : deadLink();
  });
}
