// One index of pending holds instead of two: every hold and every settle wrote both. The sweeper
// finds expired holds through the remaining one, which lists only pending holds (calls in flight,
// and those a dead process left behind), so it reads a handful of rows, not the history.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('holds_pending_expires').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
