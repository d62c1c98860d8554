// The mail outbox: mail is written in the same transaction as the event that causes it, so an
// event that commits always has its mail, and one that rolls back never sends any.
import type { Trx } from '../db/transaction.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export async function queueMail(trx: Trx, nowMs: number, mail: OutgoingMail): Promise<number> {
  const row = await trx
    .insertInto('mail_outbox')
    .values({
      to_address: mail.to,
      subject: mail.subject,
      body_text: mail.text,
      status: 'pending',
      attempts: 0,
      next_attempt_at_ms: nowMs,
      claimed_until_ms: null,
      last_error: null,
      created_at_ms: nowMs,
      sent_at_ms: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
