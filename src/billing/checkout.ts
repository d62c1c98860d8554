// Starting a purchase and coming back from checkout: the pending purchase and its Checkout Session
// (for a customer created once per user), the success return that fulfils at once, and the cancel.
import type { DB } from '../db/connect.ts';
import type { Purchase, User } from '../db/schema.ts';
import { writeTransaction } from '../db/transaction.ts';
import { customerCreateKey } from '../ledger/idempotency-keys.ts';
import type { BillingDeps } from './deps.ts';
import { errorText, PaymentProviderError } from './errors.ts';
import { fulfilCheckoutSession, markUnpaidIn } from './fulfil.ts';
import { createPurchase, findPackageOnSale } from './purchases.ts';
import { creditsProseText } from '../money-text.ts';

/** How long the pending card polls after the return before it says the payment is still processing. */
export const PENDING_POLL_MS = 2 * 60 * 1000;

export interface CheckoutStarted {
  purchase: Purchase;
  url: string;
}

export async function startCheckout(deps: BillingDeps, user: User, packageId: string, saveCard: boolean): Promise<CheckoutStarted> {
  const pkg = await findPackageOnSale(deps.db, packageId);
  // Demo payments simulate the saved card too (its one demo card), so auto-recharge can be tried.
  const purchase = await createPurchase(deps.db, deps.clock, { userId: user.id, pkg, saveCard, mode: deps.provider.mode });
  try {
    const customerId = deps.provider.usesCustomers ? await ensureCustomer(deps, user) : null;
    const session = await deps.provider.createCheckoutSession({
      purchasePublicId: purchase.public_id,
      customerId,
      productName: `${pkg.name}: ${creditsProseText(pkg.credits_mc)} credits`,
      unitAmountCents: purchase.price_cents,
      currency: purchase.currency,
      saveCard: purchase.save_card === 1,
      successUrl: `${deps.publicUrl}/credits/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${deps.publicUrl}/credits/checkout/cancel?purchase=${purchase.public_id}`,
    });
    const started = await writeTransaction(deps.db, (trx) =>
      trx
        .updateTable('purchases')
        .set({ checkout_session_id: session.id, checkout_url: session.url, updated_at_ms: deps.clock.now() })
        .where('id', '=', purchase.id)
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return { purchase: started, url: session.url };
  } catch (error) {
    // The buyer never saw a checkout page, so nothing can be paid; should a session exist after all
    // (the answer was lost), it expires unpaid, and a payment would still be credited ("paid" wins).
    await writeTransaction(deps.db, (trx) => markUnpaidIn(trx, deps.clock.now(), purchase.id, 'cancelled', ['pending']));
    deps.log(`billing: checkout for ${purchase.public_id} failed: ${errorText(error)}`);
    throw new PaymentProviderError(error as Error);
  }
}

// One creation per user at a time in this process (two quick Buy clicks); across processes, the
// idempotency key makes Stripe answer both with the same customer and the UNIQUE row keeps one.
const creatingCustomers = new WeakMap<DB, Map<number, Promise<string>>>();

export async function ensureCustomer(deps: BillingDeps, user: User): Promise<string> {
  const stored = await deps.db.selectFrom('billing_customers').select('stripe_customer_id').where('user_id', '=', user.id).executeTakeFirst();
  if (stored) return stored.stripe_customer_id;
  const inFlight = creatingCustomers.get(deps.db) ?? new Map<number, Promise<string>>();
  creatingCustomers.set(deps.db, inFlight);
  const running = inFlight.get(user.id);
  if (running) return running;
  const creation = createCustomer(deps, user).finally(() => inFlight.delete(user.id));
  inFlight.set(user.id, creation);
  return creation;
}

async function createCustomer(deps: BillingDeps, user: User): Promise<string> {
  // The user's creation time makes the key unique to this user of this database, not just "user 1".
  const customerId = await deps.provider.createCustomer({ email: user.email, userId: user.id, idempotencyKey: customerCreateKey(user.id, user.created_at_ms) });
  return writeTransaction(deps.db, async (trx) => {
    await trx
      .insertInto('billing_customers')
      .values({ user_id: user.id, stripe_customer_id: customerId, created_at_ms: deps.clock.now() })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
    const row = await trx.selectFrom('billing_customers').select('stripe_customer_id').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    return row.stripe_customer_id;
  });
}

/**
 * The success return: fulfil right away by retrieving the session. If the provider can't be reached
 * the purchase simply stays pending (the webhook, the poll or reconcile will credit it).
 */
export async function returnFromCheckout(deps: BillingDeps, purchase: Purchase): Promise<Purchase> {
  if (purchase.returned_at_ms === null) {
    await writeTransaction(deps.db, (trx) =>
      trx.updateTable('purchases').set({ returned_at_ms: deps.clock.now() }).where('id', '=', purchase.id).where('returned_at_ms', 'is', null).execute(),
    );
  }
  return refreshPurchase(deps, purchase);
}

/** One look at the provider for a purchase that is still pending; errors leave it pending. */
export async function refreshPurchase(deps: BillingDeps, purchase: Purchase): Promise<Purchase> {
  if (purchase.status !== 'paid' && purchase.status !== 'mismatch' && purchase.checkout_session_id) {
    try {
      await fulfilCheckoutSession(deps, purchase.checkout_session_id);
    } catch (error) {
      deps.log(`billing: could not check ${purchase.checkout_session_id}: ${errorText(error)}`);
    }
  }
  return deps.db.selectFrom('purchases').selectAll().where('id', '=', purchase.id).executeTakeFirstOrThrow();
}

/** Still waiting, and for how long the pending card keeps polling. */
export function pendingPollIsOver(deps: BillingDeps, purchase: Purchase): boolean {
  return deps.clock.now() - (purchase.returned_at_ms ?? purchase.created_at_ms) >= PENDING_POLL_MS;
}

/**
 * The cancel return: the session is expired (errors ignored: it may be paid or gone already) so it
 * can't be paid later, and the purchase is marked cancelled unless it was paid, which always wins.
 */
export async function cancelCheckout(deps: BillingDeps, purchase: Purchase): Promise<Purchase> {
  if (purchase.status === 'paid' || purchase.status === 'mismatch') return purchase;
  if (purchase.checkout_session_id) {
    try {
      await deps.provider.expireSession(purchase.checkout_session_id);
    } catch (error) {
      deps.log(`billing: could not expire ${purchase.checkout_session_id} (ignored): ${errorText(error)}`);
      // It could not be expired: perhaps because it was paid in the meantime.
      const checked = await refreshPurchase(deps, purchase);
      if (checked.status === 'paid' || checked.status === 'mismatch') return checked;
    }
  }
  await writeTransaction(deps.db, (trx) => markUnpaidIn(trx, deps.clock.now(), purchase.id, 'cancelled', ['pending', 'expired']));
  return deps.db.selectFrom('purchases').selectAll().where('id', '=', purchase.id).executeTakeFirstOrThrow();
}
