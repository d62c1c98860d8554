// The console's health page and the credits counters (README, Operators: the console; docs/architecture.md,
// Health): audit_runs keeps every audit run (when, started from where, by whom, its violation counts);
// worker_runs keeps each background worker's last round (when, how long, ok or failed, what it did);
// and a partial index over the ledger's entries that are not usage, so /metrics sums credits added and
// taken by type without reading the calls' entries (usage writes do not maintain it).
import { sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('audit_runs')
    .addColumn('id', idType as 'integer', id)
    // console or cli: where the run was started (nothing runs it on a schedule yet).
    .addColumn('source', 'text', (c) => c.notNull())
    // The admin who pressed "Run the audit now"; null for the CLI and anything scheduled.
    .addColumn('admin_user_id', 'bigint')
    .addColumn('violations', 'bigint', (c) => c.notNull())
    // Violations by invariant, as words ("invariant 1: 2; invariant 4: 1"); empty when clean.
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  // Keyset pages of the history, newest first (src/db/keyset.ts).
  await db.schema.createIndex('audit_runs_created').on('audit_runs').columns(['created_at_ms', 'id']).execute();
  await db.schema
    .createTable('worker_runs')
    // mail-sender, hold-sweeper, reconcile, promo-expiry, auto-recharge: one row each, overwritten by every round.
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('finished_at_ms', 'bigint', (c) => c.notNull())
    // ok or failed.
    .addColumn('outcome', 'text', (c) => c.notNull())
    // What the round did ("3 tried") or its error's first line.
    .addColumn('detail', 'text', (c) => c.notNull())
    // The last round that ended ok: a failing worker still shows when it last worked.
    .addColumn('last_ok_at_ms', 'bigint')
    .execute();
  await db.schema.createIndex('ledger_entries_credits').on('ledger_entries').columns(['type', 'amount_mc']).where(sql.ref('type'), '<>', 'usage').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
