// The operator console (README, Operators: the console): every admin action recorded in
// admin_actions (who, what, on whom, why, when); a user's sign-in and API access switched off by
// users.disabled_at_ms; a model taken off the rate card by rates.retired_at_ms (on its versions;
// usage rows keep the rates they were charged, which are copied onto them).
import type { Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('admin_actions')
    .addColumn('id', idType as 'integer', id)
    .addColumn('admin_user_id', 'bigint', (c) => c.notNull())
    // grant, adjust, revoke_key, end_sessions, disable, enable, rate_add, rate_change, rate_retire, package_save…
    .addColumn('action', 'text', (c) => c.notNull())
    // The user acted on; null when the target is not a user (a model, a package).
    .addColumn('target_user_id', 'bigint')
    // What was acted on, as words: "key 7", "model gpt-4o-mini", "package starter".
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    // The action's numbers, as words ("+5,000 mc, entry 42"), for the page and for a later audit.
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('admin_actions_target_user').on('admin_actions').columns(['target_user_id', 'created_at_ms']).execute();
  await db.schema.alterTable('users').addColumn('disabled_at_ms', 'bigint').execute();
  await db.schema.alterTable('rates').addColumn('retired_at_ms', 'bigint').execute();
  // The console's list of users sorts by balance or by last activity (a wallet's last change).
  await db.schema.createIndex('wallets_balance').on('wallets').columns(['balance_mc', 'user_id']).execute();
  await db.schema.createIndex('wallets_updated').on('wallets').columns(['updated_at_ms', 'user_id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
