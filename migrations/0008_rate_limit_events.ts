// One table of rate-limited events (sign-in attempts, reset requests), each under a scope key and
// counted over its own sliding window, instead of login_failures, which counted sign-in failures only.
// Its rows lived 15 minutes at most and only throttled sign-ins: nothing is carried over.
import type { Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('rate_limit_events')
    .addColumn('id', idType as 'integer', id)
    .addColumn('scope_key', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_limit_events_scope').on('rate_limit_events').columns(['scope_key', 'created_at_ms']).execute();
  await db.schema.createIndex('rate_limit_events_created').on('rate_limit_events').column('created_at_ms').execute();
  await db.schema.dropTable('login_failures').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
