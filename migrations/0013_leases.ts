// Several processes on one database (docs/architecture.md, Several processes): job leases, so a job
// that must run once per interval (the hold sweeper, reconcile) runs in one process at a time;
// process leases, which each process renews while it lives, so the holds of one that died are given
// back within seconds (holds.lease_id names the lease a hold was placed under; null for holds placed
// before this, or outside a server); and a claim on an auto-recharge, so two processes' workers never
// both start the same payment.
import { sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('process_leases')
    .addColumn('id', idType as 'integer', id)
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    // Set when the lease ends (a clean stop, or reaped once lapsed). Rows are kept, not deleted: SQLite
    // gives a new row the largest id + 1, so a deleted lease's id could be handed to a new process.
    .addColumn('ended_at_ms', 'bigint')
    .execute();
  await db.schema.createIndex('process_leases_live').on('process_leases').column('expires_at_ms').where(sql.ref('ended_at_ms'), 'is', null).execute();
  // No index of its own: a lapsed lease's holds are found among the pending holds
  // (holds_pending_user_key lists only those), which are the calls in flight.
  await db.schema.alterTable('holds').addColumn('lease_id', 'bigint').execute();
  await db.schema.alterTable('auto_recharges').addColumn('claimed_until_ms', 'bigint').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
