// Delivers the outbox: claims due rows atomically (so two workers, in any processes, never send the
// same row), sends each outside any transaction, then marks it sent or schedules a retry with backoff.
// Without SMTP_URL, mail is kept in the outbox and only its recipient and subject are logged
// (bodies can hold reset links); `npm run cli -- mail:list` shows it.
import type { Transporter } from 'nodemailer';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Mail } from '../db/schema.ts';
import { lockingRead } from '../db/locks.ts';
import { writeTransaction } from '../db/transaction.ts';

/** A crashed sender's claim runs out after this, and the row is tried again. */
export const CLAIM_MS = 60_000;
const MAX_BACKOFF_MS = 15 * 60_000;

export function retryDelayMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * Takes up to `limit` due rows for this worker. On SQLite the transaction holds the one write lock; on
 * PostgreSQL the due rows are read FOR UPDATE SKIP LOCKED, so a worker in another process passes over
 * the rows this one is taking instead of taking them too (or waiting for them), and a row it reads
 * after this claim commits is no longer due.
 */
export async function claimDueMail(db: DB, clock: Clock, limit = 10): Promise<Mail[]> {
  return writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const dueRows = trx
      .selectFrom('mail_outbox')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('next_attempt_at_ms', '<=', nowMs)]),
          eb.and([eb('status', '=', 'sending'), eb('claimed_until_ms', '<', nowMs)]),
        ]),
      )
      .orderBy('id')
      .limit(limit);
    const due = await lockingRead(trx, dueRows, { skipLocked: true }).execute();
    for (const mail of due) {
      await trx
        .updateTable('mail_outbox')
        .set({ status: 'sending', claimed_until_ms: nowMs + CLAIM_MS, attempts: mail.attempts + 1 })
        .where('id', '=', mail.id)
        .execute();
    }
    return due.map((mail) => ({ ...mail, status: 'sending' as const, attempts: mail.attempts + 1 }));
  });
}

export interface MailDelivery {
  transport: Transporter | null;
  from: string;
  log: (line: string) => void;
}

/** A stable Message-ID: if a crash after the SMTP server accepted a mail sends it again, it is recognisably the same one. */
export function messageId(mail: Mail): string {
  return `<outbox-${mail.id}-${mail.created_at_ms}@tokentab>`;
}

async function deliverOne(db: DB, clock: Clock, delivery: MailDelivery, mail: Mail): Promise<void> {
  if (!delivery.transport) {
    delivery.log(`mail #${mail.id} to ${mail.to_address}: "${mail.subject}" kept in the outbox (no SMTP_URL); npm run cli -- mail:list shows it`);
    await db.updateTable('mail_outbox').set({ status: 'kept', claimed_until_ms: null }).where('id', '=', mail.id).execute();
    return;
  }
  try {
    await delivery.transport.sendMail({ from: delivery.from, to: mail.to_address, subject: mail.subject, text: mail.body_text, messageId: messageId(mail) });
    await db
      .updateTable('mail_outbox')
      .set({ status: 'sent', sent_at_ms: clock.now(), claimed_until_ms: null, last_error: null })
      .where('id', '=', mail.id)
      .execute();
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]!.slice(0, 300);
    delivery.log(`mail #${mail.id}: attempt ${mail.attempts} failed (${reason}); retrying in ${retryDelayMs(mail.attempts) / 1000} s`);
    await db
      .updateTable('mail_outbox')
      .set({ status: 'pending', next_attempt_at_ms: clock.now() + retryDelayMs(mail.attempts), claimed_until_ms: null, last_error: reason })
      .where('id', '=', mail.id)
      .execute();
  }
}

/** Sends every mail that is due now; returns how many were tried. */
export async function deliverDueMail(db: DB, clock: Clock, delivery: MailDelivery): Promise<number> {
  let tried = 0;
  for (;;) {
    const batch = await claimDueMail(db, clock);
    for (const mail of batch) await deliverOne(db, clock, delivery, mail);
    tried += batch.length;
    if (batch.length === 0) return tried;
  }
}

/**
 * Runs deliverDueMail every `everyMs`; stop() waits for the current round. `around` wraps each round
 * (the server records it for the health page: src/jobs/worker-runs.ts).
 */
export function startMailWorker(db: DB, clock: Clock, delivery: MailDelivery, everyMs = 2_000, around: (round: () => Promise<number>) => Promise<unknown> = (round) => round()) {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const round = () => {
    if (!stopped) running = running.then(() => around(() => deliverDueMail(db, clock, delivery))).catch((error: Error) => delivery.log(`mail worker: ${error.message}`));
  };
  const timer = setInterval(round, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
