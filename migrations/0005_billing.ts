// Buying credits: purchases (package snapshot, payment state, refunds and disputes), each user's
// Stripe customer, the webhook events already applied, and the demo payment provider's sessions.
import { sql, type Kysely } from 'kysely';
import { idColumn } from './portable.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const [idType, id] = idColumn(db);

  // The package is copied onto the purchase when it starts, so a later price change never alters
  // what was bought. public_id (pur_…) is what travels to Stripe: metadata, client_reference_id and
  // the Idempotency-Key, unguessable in URLs and never reused by another database.
  await db.schema
    .createTable('purchases')
    .addColumn('id', idType as 'integer', id)
    .addColumn('public_id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('package_id', 'text', (c) => c.notNull())
    .addColumn('package_name', 'text', (c) => c.notNull())
    .addColumn('price_cents', 'bigint', (c) => c.notNull().check(sql`price_cents > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('credits_mc', 'bigint', (c) => c.notNull().check(sql`credits_mc > 0`))
    .addColumn('save_card', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payment_mode', 'text', (c) => c.notNull().check(sql`payment_mode in ('stripe', 'demo')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'paid', 'cancelled', 'expired', 'failed', 'mismatch')`),
    )
    .addColumn('checkout_session_id', 'text', (c) => c.unique())
    .addColumn('checkout_url', 'text')
    .addColumn('payment_intent_id', 'text')
    .addColumn('charge_id', 'text')
    .addColumn('receipt_url', 'text')
    .addColumn('paid_amount_cents', 'bigint')
    .addColumn('paid_currency', 'text')
    .addColumn('amount_refunded_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('dispute_id', 'text')
    .addColumn('dispute_status', 'text')
    .addColumn('dispute_amount_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('clawed_back_mc', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`clawed_back_mc >= 0`))
    .addColumn('shortfall_mc', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`shortfall_mc >= 0`))
    .addColumn('returned_at_ms', 'bigint')
    .addColumn('paid_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  // The list reads a user's newest purchases; refunds and disputes find theirs by charge or intent.
  await db.schema.createIndex('purchases_user_created').on('purchases').columns(['user_id', 'created_at_ms', 'id']).execute();
  await db.schema.createIndex('purchases_charge').on('purchases').column('charge_id').execute();
  await db.schema.createIndex('purchases_payment_intent').on('purchases').column('payment_intent_id').execute();

  await db.schema
    .createTable('billing_customers')
    .addColumn('user_id', 'bigint', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('stripe_customer_id', 'text', (c) => c.notNull().unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  // A row is written in the same transaction that applies the event, so "processed" is never claimed
  // for an event whose effect rolled back.
  await db.schema
    .createTable('stripe_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('processed_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  // What the demo payment provider knows: it plays Stripe's part, so fulfilment reads it the same way.
  await db.schema
    .createTable('demo_checkout_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purchase_public_id', 'text', (c) => c.notNull())
    .addColumn('amount_subtotal_cents', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'complete', 'expired')`))
    .addColumn('payment_status', 'text', (c) => c.notNull().check(sql`payment_status in ('paid', 'unpaid')`))
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('paid_at_ms', 'bigint')
    .execute();
  await db.schema.createIndex('demo_checkout_sessions_created').on('demo_checkout_sessions').column('created_at_ms').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
