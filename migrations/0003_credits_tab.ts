// The Credits tab: a monthly spend rollup (so "spend this month" and caps never scan history),
// the index behind the usage table's key filter, and the app's own secrets (cursor signing).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per (user, UTC month, model, key); key 0 is the playground (no key), because NULLs
  // never conflict in a UNIQUE index. Written in the settle transaction, so it always agrees with usage.
  await db.schema
    .createTable('monthly_spend')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'bigint', (c) => c.notNull())
    .addColumn('charged_mc', 'bigint', (c) => c.notNull())
    .addColumn('calls', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('monthly_spend_pk', ['user_id', 'month', 'model', 'api_key_id'])
    .execute();

  await db.schema.createIndex('usage_user_key_created').on('usage').columns(['user_id', 'api_key_id', 'created_at_ms', 'id']).execute();

  await db.schema
    .createTable('app_settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
