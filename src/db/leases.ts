// Leases for several processes on one database (docs/architecture.md, Several processes): job leases
// (one row a job, held by one process until it lapses) and process leases (one row a live process,
// renewed while it lives). Each is taken, renewed or ended by one guarded statement, so they work on
// SQLite and PostgreSQL alike and behind a transaction-mode pooler: no advisory lock, no session state.
import type { Kysely } from 'kysely';
import { rawInsert, rawRows, rawRun } from './raw.ts';

/**
 * Takes the job lease `name` for `holder` until `nowMs + termMs`, or renews it: the one upsert
 * changes the row only when it is free (none yet, or lapsed at `nowMs`) or already `holder`'s, so of
 * two processes racing for it exactly one sees a changed row. True when `holder` holds it now.
 */
export async function takeJobLease(db: Kysely<any>, name: string, holder: string, nowMs: number, termMs: number): Promise<boolean> {
  const changed = await rawRun(
    db,
    `insert into job_leases (name, holder, expires_at_ms) values (?, ?, ?)
     on conflict (name) do update set holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
     where job_leases.holder = excluded.holder or job_leases.expires_at_ms <= ?`,
    [name, holder, nowMs + termMs, nowMs],
  );
  return changed === 1;
}

/** Gives the job lease back early (a stopping process), if `holder` still holds it. */
export async function dropJobLease(db: Kysely<any>, name: string, holder: string): Promise<void> {
  await rawRun(db, 'delete from job_leases where name = ? and holder = ?', [name, holder]);
}

/** A new process lease, held until `nowMs + termMs`: its id is what the process's holds carry. */
export function openProcessLease(db: Kysely<any>, holder: string, nowMs: number, termMs: number): Promise<number> {
  return rawInsert(db, 'insert into process_leases (holder, started_at_ms, expires_at_ms) values (?, ?, ?)', [holder, nowMs, nowMs + termMs]);
}

/**
 * Moves the lease's end to `nowMs + termMs`. False when it has ended: it lapsed and another process
 * released its holds (releaseHoldsOfLapsedLease), so the process opens a new one.
 */
export async function renewProcessLease(db: Kysely<any>, leaseId: number, nowMs: number, termMs: number): Promise<boolean> {
  return (await rawRun(db, 'update process_leases set expires_at_ms = ? where id = ? and ended_at_ms is null', [nowMs + termMs, leaseId])) === 1;
}

/** Ends a lease whose process stops cleanly, its calls drained (nothing of it is pending). */
export async function endProcessLease(db: Kysely<any>, leaseId: number, nowMs: number): Promise<void> {
  await rawRun(db, 'update process_leases set ended_at_ms = ? where id = ? and ended_at_ms is null', [nowMs, leaseId]);
}

/** The live leases not renewed by `nowMs` (through process_leases_live): their processes died, or stalled longer than a term. */
export async function lapsedProcessLeases(db: Kysely<any>, nowMs: number): Promise<number[]> {
  const rows = await rawRows<{ id: number }>(db, 'select id from process_leases where ended_at_ms is null and expires_at_ms < ? order by id limit 100', [nowMs]);
  return rows.map((row) => Number(row.id));
}

/**
 * Ends a lapsed lease inside the transaction that releases its holds. Guarded on the lapse, so of
 * several processes reaping it one does (and none if its process renewed it meanwhile).
 */
export async function endLapsedLease(db: Kysely<any>, leaseId: number, nowMs: number): Promise<boolean> {
  return (await rawRun(db, 'update process_leases set ended_at_ms = ? where id = ? and ended_at_ms is null and expires_at_ms < ?', [nowMs, leaseId, nowMs])) === 1;
}

/** The lease a process's holds are placed under: its id is read from memory on every hold. */
export interface LeaseRef {
  /** null before the process's lease is opened (and for tools that run no lease). */
  id: number | null;
}
