// CSV links: a URL a spreadsheet or BI tool can fetch without a header, granting one export (usage or
// ledger) with its exact filters for one user until it expires or is revoked. Only a SHA-256 of the
// link's secret is stored; the query is kept canonical (as the Download CSV link writes it) so a
// fetch whose filters differ in any way is refused.
import { sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('csv_links')
    .addColumn('id', idType as 'integer', id)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('export_kind', 'text', (c) => c.notNull())
    .addColumn('query', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at_ms', 'bigint')
    .addColumn('last_used_at_ms', 'bigint')
    .execute();
  // The keys page lists a user's unrevoked links; the cap counts the live ones.
  await db.schema.createIndex('csv_links_user_live').on('csv_links').columns(['user_id', 'expires_at_ms']).where(sql.ref('revoked_at_ms'), 'is', null).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
