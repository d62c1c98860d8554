// Users, wallets, the ledger, holds, usage, the versioned rate card and the packages.
// Money (…_mc, …_cents) and time (…_ms) are 64-bit integers; flags are 0/1 integers.
import { sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);

  await db.schema
    .createTable('users')
    .addColumn('id', idType as 'integer', id)
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_normalized', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('low_balance_threshold_mc', 'bigint', (c) => c.notNull().defaultTo(500_000))
    .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('wallets')
    .addColumn('user_id', 'bigint', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('balance_mc', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('held_mc', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addCheckConstraint('wallets_held_within_balance', sql`held_mc >= 0 and held_mc <= balance_mc`)
    .execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', idType as 'integer', id)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type in ('purchase', 'auto_recharge', 'grant', 'usage', 'refund', 'adjustment')`),
    )
    .addColumn('amount_mc', 'bigint', (c) => c.notNull())
    .addColumn('balance_after_mc', 'bigint', (c) => c.notNull())
    .addColumn('shortfall_mc', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  // Tables and exports page by (created_at_ms, id) per user, optionally per type; each write
  // touches every index, so there are only the ones those reads need.
  await db.schema
    .createIndex('ledger_entries_user_created')
    .on('ledger_entries')
    .columns(['user_id', 'created_at_ms', 'id'])
    .execute();
  await db.schema
    .createIndex('ledger_entries_user_type_created')
    .on('ledger_entries')
    .columns(['user_id', 'type', 'created_at_ms', 'id'])
    .execute();

  await db.schema
    .createTable('rates')
    .addColumn('id', idType as 'integer', id)
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('input_mc_per_1k', 'bigint', (c) => c.notNull().check(sql`input_mc_per_1k >= 0`))
    .addColumn('cached_input_mc_per_1k', 'bigint', (c) => c.notNull().check(sql`cached_input_mc_per_1k >= 0`))
    .addColumn('output_mc_per_1k', 'bigint', (c) => c.notNull().check(sql`output_mc_per_1k >= 0`))
    .addColumn('max_output_tokens', 'integer', (c) => c.notNull().check(sql`max_output_tokens > 0`))
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('rates_model_version', ['model', 'version'])
    .execute();

  await db.schema
    .createTable('holds')
    .addColumn('id', idType as 'integer', id)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('api_key_id', 'bigint')
    .addColumn('request_id', 'text', (c) => c.notNull().unique())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('rate_id', 'bigint', (c) => c.notNull().references('rates.id'))
    .addColumn('amount_mc', 'bigint', (c) => c.notNull().check(sql`amount_mc >= 0`))
    .addColumn('input_mc_per_1k', 'bigint', (c) => c.notNull())
    .addColumn('cached_input_mc_per_1k', 'bigint', (c) => c.notNull())
    .addColumn('output_mc_per_1k', 'bigint', (c) => c.notNull())
    .addColumn('rounding_mode', 'text', (c) => c.notNull().check(sql`rounding_mode in ('exact', 'ceil')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'settled', 'voided', 'expired')`))
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('ended_at_ms', 'bigint')
    .execute();
  // Only pending holds are looked up (the sweeper by expiry, the balance card by user), so the
  // indexes are partial: a settled hold leaves them.
  await db.schema
    .createIndex('holds_pending_expires')
    .on('holds')
    .column('expires_at_ms')
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  // (user, key): a user's pending holds (caps, the balance card) and a key's (calls in flight) in one index.
  await db.schema.createIndex('holds_pending_user_key').on('holds').columns(['user_id', 'api_key_id']).where(sql.ref('status'), '=', 'pending').execute();

  await db.schema
    .createTable('usage')
    .addColumn('id', idType as 'integer', id)
    .addColumn('request_id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('hold_id', 'bigint', (c) => c.notNull().references('holds.id'))
    .addColumn('api_key_id', 'bigint')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('input_tokens', 'bigint', (c) => c.notNull())
    .addColumn('cached_input_tokens', 'bigint', (c) => c.notNull())
    .addColumn('output_tokens', 'bigint', (c) => c.notNull())
    .addColumn('input_mc_per_1k', 'bigint', (c) => c.notNull())
    .addColumn('cached_input_mc_per_1k', 'bigint', (c) => c.notNull())
    .addColumn('output_mc_per_1k', 'bigint', (c) => c.notNull())
    .addColumn('rounding_mode', 'text', (c) => c.notNull())
    .addColumn('hold_mc', 'bigint', (c) => c.notNull())
    .addColumn('charged_mc', 'bigint', (c) => c.notNull().check(sql`charged_mc >= 0`))
    .addColumn('shortfall_mc', 'bigint', (c) => c.notNull().check(sql`shortfall_mc >= 0`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('ok', 'aborted', 'upstream_error')`))
    .addColumn('estimated', 'integer', (c) => c.notNull())
    .addColumn('latency_ms', 'bigint', (c) => c.notNull())
    .addColumn('upstream_response_id', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_user_created').on('usage').columns(['user_id', 'created_at_ms', 'id']).execute();
  await db.schema
    .createIndex('usage_user_model_created')
    .on('usage')
    .columns(['user_id', 'model', 'created_at_ms', 'id'])
    .execute();

  await db.schema
    .createTable('packages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('price_cents', 'bigint', (c) => c.notNull().check(sql`price_cents > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('credits_mc', 'bigint', (c) => c.notNull().check(sql`credits_mc > 0`))
    .addColumn('best_value', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sort_order', 'integer', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
