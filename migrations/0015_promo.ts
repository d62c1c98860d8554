// Promo credits (docs/architecture.md, Promo credits): batches of redemption codes, each redemption a
// grant with what is left of it and when it ends, the wallet's running sum of live promo credits (so a
// settle for a user with none pays no extra statement), and two ledger entry types: `promo` (a code
// redeemed) and `expiry` (what was left of a grant when it ended).
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

const ENTRY_TYPES = sql`type in ('purchase', 'auto_recharge', 'grant', 'usage', 'refund', 'adjustment', 'promo', 'expiry')`;

/**
 * Widens ledger_entries.type's CHECK. PostgreSQL replaces the constraint; SQLite cannot alter one, so
 * the table is rebuilt the documented way (a new table, the rows copied with their ids, the old one
 * dropped, the new one renamed, its indexes made again), inside the migration's transaction. Nothing
 * references ledger_entries, so dropping it breaks no foreign key.
 */
async function widenEntryTypes(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table ledger_entries drop constraint ledger_entries_type_check`.execute(db);
    await sql`alter table ledger_entries add constraint ledger_entries_type_check check (${ENTRY_TYPES})`.execute(db);
    return;
  }
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('ledger_entries_widened')
    .addColumn('id', idType as 'integer', id)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('type', 'text', (c) => c.notNull().check(ENTRY_TYPES))
    .addColumn('amount_mc', 'bigint', (c) => c.notNull())
    .addColumn('balance_after_mc', 'bigint', (c) => c.notNull())
    .addColumn('shortfall_mc', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  const columns = 'id, user_id, type, amount_mc, balance_after_mc, shortfall_mc, reference, idempotency_key, created_at_ms';
  await sql.raw(`insert into ledger_entries_widened (${columns}) select ${columns} from ledger_entries`).execute(db);
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.alterTable('ledger_entries_widened').renameTo('ledger_entries').execute();
  await db.schema.createIndex('ledger_entries_user_created').on('ledger_entries').columns(['user_id', 'created_at_ms', 'id']).execute();
  await db.schema.createIndex('ledger_entries_user_type_created').on('ledger_entries').columns(['user_id', 'type', 'created_at_ms', 'id']).execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await widenEntryTypes(db);
  const [idType, id] = idColumn(db);
  await db.schema
    .createTable('promo_codes')
    .addColumn('id', idType as 'integer', id)
    // SHA-256 of the code as typed (upper case, no dashes): a copy of the database hands out no credits.
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    // Its last four characters, for an operator telling codes apart.
    .addColumn('code_hint', 'text', (c) => c.notNull())
    .addColumn('batch', 'text', (c) => c.notNull())
    .addColumn('credits_mc', 'bigint', (c) => c.notNull().check(sql`credits_mc > 0`))
    .addColumn('credits_last_ms', 'bigint', (c) => c.notNull().check(sql`credits_last_ms > 0`))
    .addColumn('max_redemptions', 'integer', (c) => c.notNull().check(sql`max_redemptions > 0`))
    // Raised by the guarded update that admits a redemption, never past max_redemptions.
    .addColumn('redemptions', 'integer', (c) => c.notNull().defaultTo(0).check(sql`redemptions >= 0 and redemptions <= max_redemptions`))
    .addColumn('valid_until_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('promo_codes_batch').on('promo_codes').columns(['batch', 'id']).execute();

  // One row per redemption, which is also the grant it made: what is left of it, and when it ends.
  await db.schema
    .createTable('promo_grants')
    .addColumn('id', idType as 'integer', id)
    .addColumn('code_id', 'bigint', (c) => c.notNull().references('promo_codes.id'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('amount_mc', 'bigint', (c) => c.notNull().check(sql`amount_mc > 0`))
    .addColumn('remaining_mc', 'bigint', (c) => c.notNull().check(sql`remaining_mc >= 0 and remaining_mc <= amount_mc`))
    // What expiry took from it, once it ended (the rest was spent).
    .addColumn('expired_mc', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`expired_mc >= 0`))
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    // Set when the grant has ended: by then remaining_mc is 0.
    .addColumn('ended_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    // One redemption per user per code, whoever races.
    .addUniqueConstraint('promo_grants_code_user', ['code_id', 'user_id'])
    .execute();
  // A user's live grants, soonest ending first (the order promo credits are spent in), and the
  // expiry job's due grants: both among the live ones only.
  await db.schema.createIndex('promo_grants_live_user').on('promo_grants').columns(['user_id', 'expires_at_ms', 'id']).where(sql.ref('ended_at_ms'), 'is', null).execute();
  await db.schema.createIndex('promo_grants_live_expiry').on('promo_grants').columns(['expires_at_ms']).where(sql.ref('ended_at_ms'), 'is', null).execute();

  // Σ remaining_mc of the user's live grants, moved in the same wallet update as the balance.
  await db.schema.alterTable('wallets').addColumn('promo_mc', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
