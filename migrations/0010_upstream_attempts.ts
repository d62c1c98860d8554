// Several upstreams with failover (README, Several upstreams): each usage row says which upstream
// answered the call and what each attempt before it came to. Rows written before stay null.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage').addColumn('upstream', 'text').execute();
  await db.schema.alterTable('usage').addColumn('upstream_attempts', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
