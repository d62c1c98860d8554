// Alerts, auto-recharge, caps and key limits: per-user billing settings, per-model caps, per-key
// limits, the saved card, recharges (at most one pending per user) and once-a-month notices.
import { sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);

  // 1 once the low-balance email went out; back to 0 when the balance is at or above the threshold again.
  await db.schema.alterTable('users').addColumn('low_balance_alerted', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('billing_settings')
    .addColumn('user_id', 'bigint', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('auto_recharge_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('auto_recharge_threshold_mc', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('auto_recharge_package_id', 'text')
    .addColumn('auto_recharge_monthly_limit', 'integer', (c) => c.notNull().defaultTo(3))
    .addColumn('monthly_cap_mc', 'bigint')
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('model_caps')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('cap_mc', 'bigint', (c) => c.notNull().check(sql`cap_mc > 0`))
    .addPrimaryKeyConstraint('model_caps_pk', ['user_id', 'model'])
    .execute();

  await db.schema.alterTable('api_keys').addColumn('monthly_limit_mc', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('max_in_flight', 'integer', (c) => c.notNull().defaultTo(10)).execute();

  await db.schema
    .createTable('saved_cards')
    .addColumn('user_id', 'bigint', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('payment_method_id', 'text', (c) => c.notNull())
    .addColumn('brand', 'text', (c) => c.notNull())
    .addColumn('last4', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('auto_recharges')
    .addColumn('id', idType as 'integer', id)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('package_id', 'text', (c) => c.notNull())
    .addColumn('package_name', 'text', (c) => c.notNull())
    .addColumn('price_cents', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('credits_mc', 'bigint', (c) => c.notNull())
    .addColumn('payment_method_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'succeeded', 'failed')`))
    .addColumn('payment_intent_id', 'text', (c) => c.unique())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  // At most one pending recharge per user, enforced by the database, whatever races.
  await db.schema.createIndex('auto_recharges_one_pending').on('auto_recharges').column('user_id').unique().where(sql.ref('status'), '=', 'pending').execute();
  // The monthly limit counts a user's succeeded recharges created in the UTC month.
  await db.schema.createIndex('auto_recharges_user_status_created').on('auto_recharges').columns(['user_id', 'status', 'created_at_ms']).execute();

  // An auto-recharge that was paid becomes a purchase like any other (receipt, refunds, disputes, the
  // purchases list), credited under pi:{intent} instead of checkout:{session}.
  await db.schema.alterTable('purchases').addColumn('kind', 'text', (c) => c.notNull().defaultTo('checkout')).execute();

  // Notices sent once per month (cap at 80% / 100%) or once per event (a declined recharge).
  await db.schema
    .createTable('notices')
    .addColumn('id', idType as 'integer', id)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('dismissed_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notices_user_created').on('notices').columns(['user_id', 'created_at_ms']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
