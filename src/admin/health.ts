// What the console's health page reads: pending holds and the oldest, the mail outbox's failures,
// job and process leases, and the database's size. Reads only.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import { onPostgres } from '../db/raw.ts';

export interface Health {
  pendingHolds: number;
  pendingHeldMc: number;
  oldestHoldCreatedAtMs: number | null;
  mailPending: number;
  /** Mails with an error: kept (given up on) or still being retried. */
  mailFailures: { id: number; to_address: string; subject: string; status: string; attempts: number; last_error: string | null; created_at_ms: number }[];
  jobLeases: { name: string; holder: string; expires_at_ms: number }[];
  liveProcessLeases: { id: number; holder: string; started_at_ms: number; expires_at_ms: number }[];
  databaseBytes: number;
}

const MAIL_FAILURES_SHOWN = 20;

async function databaseBytes(db: DB): Promise<number> {
  if (onPostgres(db)) {
    const row = await sql<{ bytes: string | number }>`select pg_database_size(current_database()) as bytes`.execute(db);
    return Number(row.rows[0]!.bytes);
  }
  const count = await sql<{ page_count: number }>`pragma page_count`.execute(db);
  const size = await sql<{ page_size: number }>`pragma page_size`.execute(db);
  return Number(count.rows[0]!.page_count) * Number(size.rows[0]!.page_size);
}

export async function readHealth(db: DB, nowMs: number): Promise<Health> {
  const [holds, mailPending, mailFailures, jobLeases, liveProcessLeases, bytes] = await Promise.all([
    db
      .selectFrom('holds')
      .select((eb) => [eb.fn.countAll<number>().as('calls'), eb.fn.sum<number>('amount_mc').as('held'), eb.fn.min<number>('created_at_ms').as('oldest')])
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow(),
    db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'in', ['pending', 'sending']).executeTakeFirstOrThrow(),
    db
      .selectFrom('mail_outbox')
      .select(['id', 'to_address', 'subject', 'status', 'attempts', 'last_error', 'created_at_ms'])
      .where((eb) => eb.or([eb('status', '=', 'kept'), eb.and([eb('status', '!=', 'sent'), eb('last_error', 'is not', null)])]))
      .orderBy('id', 'desc')
      .limit(MAIL_FAILURES_SHOWN)
      .execute(),
    db.selectFrom('job_leases').select(['name', 'holder', 'expires_at_ms']).orderBy('name').execute(),
    db.selectFrom('process_leases').select(['id', 'holder', 'started_at_ms', 'expires_at_ms']).where('ended_at_ms', 'is', null).where('expires_at_ms', '>', nowMs).orderBy('id').execute(),
    databaseBytes(db),
  ]);
  return {
    pendingHolds: Number(holds.calls),
    pendingHeldMc: Number(holds.held ?? 0),
    oldestHoldCreatedAtMs: holds.oldest === null ? null : Number(holds.oldest),
    mailPending: Number(mailPending.n),
    mailFailures: mailFailures.map((m) => ({ ...m, id: Number(m.id), attempts: Number(m.attempts), created_at_ms: Number(m.created_at_ms) })),
    jobLeases: jobLeases.map((l) => ({ ...l, expires_at_ms: Number(l.expires_at_ms) })),
    liveProcessLeases: liveProcessLeases.map((l) => ({ ...l, id: Number(l.id), started_at_ms: Number(l.started_at_ms), expires_at_ms: Number(l.expires_at_ms) })),
    databaseBytes: bytes,
  };
}
