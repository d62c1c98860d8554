// The demo payment provider (PAYMENTS=demo): Checkout Sessions kept in the local database and paid
// on a local page, read by fulfilment exactly as Stripe's are. No card is charged.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { DemoCheckoutSessionsTable } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { randomToken } from '../auth/tokens.ts';
import { CHECKOUT_SESSION_LIFETIME_MS, type CheckoutSessionView, type PaymentProvider } from './payment-provider.ts';

type DemoSession = { [K in keyof DemoCheckoutSessionsTable]: DemoCheckoutSessionsTable[K] };

export class DemoSessionNotOpenError extends Error {
  override name = 'DemoSessionNotOpenError';
  constructor(
    readonly sessionId: string,
    readonly status: string,
  ) {
    super(`demo Checkout Session ${sessionId} is ${status}`);
  }
}

function view(row: DemoSession): CheckoutSessionView {
  return {
    id: row.id,
    status: row.status,
    paymentStatus: row.payment_status,
    amountSubtotalCents: row.amount_subtotal_cents,
    currency: row.currency,
    purchasePublicId: row.purchase_public_id,
    paymentIntentId: null,
    chargeId: null,
    receiptUrl: null,
    paymentMethod: DEMO_CARD,
  };
}

/** The demo provider's one card: saving it is what enables auto-recharge in demo mode. */
export const DEMO_CARD = { id: 'pm_demo_card', brand: 'Demo card', last4: '4242' } as const;

export interface DemoProvider extends PaymentProvider {
  /** The local checkout page's Pay button: the session becomes complete and paid. */
  pay(id: string): Promise<void>;
}

export function demoProvider(db: DB, clock: Clock): DemoProvider {
  // Inside a transaction the lookup must go through it: the one connection is held by the transaction.
  async function mustFind(id: string, executor: Pick<DB, 'selectFrom'> = db): Promise<DemoSession> {
    const row = await executor.selectFrom('demo_checkout_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new Error(`no demo Checkout Session ${id}`);
    return row;
  }

  /** Like Stripe, an open session expires CHECKOUT_SESSION_LIFETIME_MS after it was made: recorded when next read. */
  async function expireIfOverdue(id: string): Promise<void> {
    await writeTransaction(db, (trx) =>
      trx
        .updateTable('demo_checkout_sessions')
        .set({ status: 'expired' })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .where('created_at_ms', '<=', clock.now() - CHECKOUT_SESSION_LIFETIME_MS)
        .execute(),
    );
  }

  return {
    mode: 'demo',
    usesCustomers: false,

    async createCustomer() {
      throw new Error('the demo provider has no customers');
    },

    async createCheckoutSession(input) {
      // cs_ like Stripe's, so the ledger links the purchase to its receipt the same way; 96 random
      // bits: unguessable, and short enough to read on a receipt.
      const id = `cs_demo_${randomToken(12)}`;
      await writeTransaction(db, async (trx) => {
        await trx
          .insertInto('demo_checkout_sessions')
          .values({
            id,
            purchase_public_id: input.purchasePublicId,
            amount_subtotal_cents: input.unitAmountCents,
            currency: input.currency,
            status: 'open',
            payment_status: 'unpaid',
            created_at_ms: clock.now(),
            paid_at_ms: null,
          })
          .execute();
      });
      // A path, not a URL: the page is this app's own, on whatever host the buyer is using.
      return { id, url: `/credits/demo-checkout/${id}` };
    },

    async retrieveSession(id) {
      await expireIfOverdue(id);
      return view(await mustFind(id));
    },

    async expireSession(id) {
      await writeTransaction(db, async (trx) => {
        const result = await trx.updateTable('demo_checkout_sessions').set({ status: 'expired' }).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw new DemoSessionNotOpenError(id, (await mustFind(id, trx)).status);
      });
    },

    async *listPaidSessions(sinceMs) {
      const rows = await db
        .selectFrom('demo_checkout_sessions')
        .selectAll()
        .where('payment_status', '=', 'paid')
        .where('created_at_ms', '>=', sinceMs)
        .orderBy('created_at_ms', 'desc')
        .execute();
      for (const row of rows) yield view(row);
    },

    async purchaseIdForCharge() {
      return null;
    },

    // Off-session payments always succeed in demo mode; the intent id follows from the idempotency
    // key, so a retried recharge finds the same payment, as it would at Stripe.
    async chargeSavedCard(input) {
      return { id: `pi_demo_${input.idempotencyKey}`, status: 'succeeded', amountCents: input.amountCents, currency: input.currency, chargeId: null, receiptUrl: null, failureCode: null, metadata: input.metadata };
    },

    // The demo card is attached to nothing: removing it is the local row's business alone.
    async detachCard() {},

    async retrievePaymentIntent(id) {
      return { id, status: 'succeeded', amountCents: null, currency: null, chargeId: null, receiptUrl: null, failureCode: null, metadata: {} };
    },

    async pay(id) {
      await expireIfOverdue(id);
      await writeTransaction(db, async (trx) => {
        const result = await trx
          .updateTable('demo_checkout_sessions')
          .set({ status: 'complete', payment_status: 'paid', paid_at_ms: clock.now() })
          .where('id', '=', id)
          .where('status', '=', 'open')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw new DemoSessionNotOpenError(id, (await mustFind(id, trx)).status);
      });
    },
  };
}
