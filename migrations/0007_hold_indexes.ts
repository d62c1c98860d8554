// One index of pending holds, (user, key), instead of several: every hold and every settle wrote each
// of them. The sweeper finds expired holds through the remaining one, which lists only pending holds
// (calls in flight, and those a dead process left behind), so it reads a handful of rows, not the history.
// Also the repair of a database created before 0001 and 0006 were edited in place (commit 53f6002): it
// has holds_pending_user and holds_pending_key instead of holds_pending_user_key. So every step is
// conditional, and the migration leaves the same indexes whichever of those databases it runs on.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('holds_pending_user_key')
    .ifNotExists()
    .on('holds')
    .columns(['user_id', 'api_key_id'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  for (const name of ['holds_pending_expires', 'holds_pending_user', 'holds_pending_key']) {
    await db.schema.dropIndex(name).ifExists().execute();
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
