// Request ids: time-ordered, so the UNIQUE indexes on them grow at their end (README, Decisions).
import { randomUUID } from 'node:crypto';

/**
 * req_ and 32 hex digits: the time in ms (12 digits), then 80 random bits. Time first, so the
 * UNIQUE indexes on request ids (holds, usage, the usage entry's idempotency key) grow at their
 * end instead of at a random page each call. randomUUID draws from a pooled entropy buffer
 * (randomBytes fills anew on every call); its version and variant digits are left out.
 */
export function newRequestId(): string {
  const random = randomUUID().replaceAll('-', '');
  return `req_${Date.now().toString(16).padStart(12, '0')}${random.slice(0, 12)}${random.slice(13, 16)}${random.slice(17, 22)}`;
}
