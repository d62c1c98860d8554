// Who is an admin: a user marked so (`user:create --admin`, or signed up under ADMIN_EMAILS), or one
// whose email is in ADMIN_EMAILS now (so adding an operator needs no database change). Disabled users are not.
import type { Config } from '../config.ts';
import type { User } from '../db/schema.ts';

export function isAdmin(user: Pick<User, 'is_admin' | 'email_normalized' | 'disabled_at_ms'> | null, config: Pick<Config, 'adminEmails'>): boolean {
  if (!user || user.disabled_at_ms !== null) return false;
  return user.is_admin === 1 || config.adminEmails.includes(user.email_normalized);
}
