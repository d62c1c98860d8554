// Key controls: per API key, the models it may call, the client addresses it may be used from, when
// it expires and how many requests it may make a minute. Each is null for "no restriction", so every
// existing key keeps working as before. The two lists are JSON arrays of strings in a text column
// (the same on SQLite and PostgreSQL), at most 50 entries each (checked where they are written).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('allowed_models', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('allowed_cidrs', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('expires_at_ms', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('requests_per_minute', 'integer').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
