// Purchases: started with the package snapshotted onto them, found by pages only through their
// owner (fulfilment finds them by session), and listed with the status a person reads (refunds and
// disputes folded in).
import type { Insertable } from 'kysely';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import type { Package, PaymentMode, Purchase, PurchasesTable } from '../db/schema.ts';
import { writeTransaction, type Trx } from '../db/transaction.ts';
import { randomToken } from '../auth/tokens.ts';
import { packageOnSale } from '../pricing/packages.ts';
import { creditReference, disputeWithdrawsFunds } from './clawback.ts';
import { PackageNotFoundError } from './errors.ts';
import { CHECKOUT_SESSION_LIFETIME_MS } from './payment-provider.ts';
import { keysetQuery, toPage, type Page } from '../db/keyset.ts';
import type { Cursor } from '../db/cursor.ts';

export type PurchaseDisplayStatus =
  | 'pending'
  | 'paid'
  | 'cancelled'
  | 'expired'
  | 'refunded'
  | 'partially refunded'
  | 'disputed'
  | 'payment failed'
  | 'under review';

export interface PurchaseRow {
  publicId: string;
  createdAtMs: number;
  packageName: string;
  priceCents: number;
  currency: string;
  creditsMc: number;
  status: PurchaseDisplayStatus;
  /** The receipt (local route: Stripe's receipt page or the demo receipt); null until paid. */
  receiptHref: string | null;
  /** The open Checkout page to go back to, while the purchase is pending and its session still open. */
  resumeHref: string | null;
  /** Whether it can still be cancelled (pending: nothing paid yet). */
  cancellable: boolean;
}

export async function findPackageOnSale(db: DB, packageId: string): Promise<Package> {
  const pkg = await packageOnSale(db, packageId);
  if (!pkg) throw new PackageNotFoundError(packageId);
  return pkg;
}

export interface NewPurchase {
  userId: number;
  /** The package as sold now, or as an auto-recharge row snapshotted it. */
  pkg: Pick<Package, 'id' | 'name' | 'price_cents' | 'currency' | 'credits_mc'>;
  saveCard: boolean;
  mode: PaymentMode;
}

/** Every purchase row starts from these values: a pending Checkout purchase; an auto-recharge overrides what it already knows. */
export function newPurchaseValues(input: NewPurchase, nowMs: number): Insertable<PurchasesTable> {
  return {
    public_id: `pur_${randomToken(16)}`,
    user_id: input.userId,
    package_id: input.pkg.id,
    package_name: input.pkg.name,
    price_cents: input.pkg.price_cents,
    currency: input.pkg.currency.toLowerCase(),
    credits_mc: input.pkg.credits_mc,
    save_card: input.saveCard ? 1 : 0,
    payment_mode: input.mode,
    status: 'pending',
    checkout_session_id: null,
    checkout_url: null,
    payment_intent_id: null,
    charge_id: null,
    receipt_url: null,
    paid_amount_cents: null,
    paid_currency: null,
    dispute_id: null,
    dispute_status: null,
    returned_at_ms: null,
    paid_at_ms: null,
    created_at_ms: nowMs,
    updated_at_ms: nowMs,
  };
}

export function createPurchase(db: DB, clock: Clock, input: NewPurchase): Promise<Purchase> {
  return writeTransaction(db, (trx) => trx.insertInto('purchases').values(newPurchaseValues(input, clock.now())).returningAll().executeTakeFirstOrThrow());
}

/** The purchase a Checkout Session was made for: bound to it, else (if the process died before storing the id) the unbound one it names. */
export async function findPurchaseForSession(db: DB | Trx, sessionId: string, purchasePublicId: string | null): Promise<Purchase | undefined> {
  const bound = await db.selectFrom('purchases').selectAll().where('checkout_session_id', '=', sessionId).executeTakeFirst();
  if (bound || !purchasePublicId) return bound;
  return db.selectFrom('purchases').selectAll().where('public_id', '=', purchasePublicId).where('checkout_session_id', 'is', null).executeTakeFirst();
}

export function findPurchaseForUser(db: DB, userId: number, publicId: string): Promise<Purchase | undefined> {
  return db.selectFrom('purchases').selectAll().where('public_id', '=', publicId).where('user_id', '=', userId).executeTakeFirst();
}

export function findPurchaseBySessionForUser(db: DB, userId: number, sessionId: string): Promise<Purchase | undefined> {
  return db.selectFrom('purchases').selectAll().where('checkout_session_id', '=', sessionId).where('user_id', '=', userId).executeTakeFirst();
}

/** A ledger reference (the Checkout Session, or the PaymentIntent) to its purchase, for its owner only. */
export function findPurchaseByReferenceForUser(db: DB, userId: number, reference: string): Promise<Purchase | undefined> {
  return db
    .selectFrom('purchases')
    .selectAll()
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('checkout_session_id', '=', reference), eb('payment_intent_id', '=', reference)]))
    .executeTakeFirst();
}

export function displayStatus(purchase: Purchase): PurchaseDisplayStatus {
  switch (purchase.status) {
    case 'paid':
      if (purchase.dispute_status && disputeWithdrawsFunds(purchase.dispute_status)) return 'disputed';
      if (purchase.amount_refunded_cents >= purchase.price_cents) return 'refunded';
      if (purchase.amount_refunded_cents > 0) return 'partially refunded';
      return 'paid';
    case 'failed':
      return 'payment failed';
    case 'mismatch':
      return 'under review';
    default:
      return purchase.status;
  }
}

export function receiptHref(purchase: Purchase): string | null {
  const reference = creditReference(purchase);
  if (purchase.status !== 'paid' || !reference) return null;
  return `/credits/receipts/${encodeURIComponent(reference)}`;
}

/** The Checkout page a pending purchase can go back to: null once its session has (or must have) expired. */
export function resumeHref(purchase: Purchase, nowMs: number): string | null {
  if (purchase.status !== 'pending' || purchase.kind === 'auto_recharge' || !purchase.checkout_url) return null;
  return nowMs < purchase.created_at_ms + CHECKOUT_SESSION_LIFETIME_MS ? purchase.checkout_url : null;
}

export function purchaseRow(purchase: Purchase, nowMs: number): PurchaseRow {
  return {
    publicId: purchase.public_id,
    createdAtMs: purchase.created_at_ms,
    packageName: purchase.kind === 'auto_recharge' ? `${purchase.package_name} (auto-recharge)` : purchase.package_name,
    priceCents: purchase.price_cents,
    currency: purchase.currency,
    creditsMc: purchase.credits_mc,
    status: displayStatus(purchase),
    receiptHref: receiptHref(purchase),
    resumeHref: resumeHref(purchase, nowMs),
    cancellable: purchase.status === 'pending' && purchase.kind !== 'auto_recharge',
  };
}

export const PURCHASES_PAGE_SIZE = 10;

/** The user's purchases, newest first, a keyset page at a time; a purchase that never reached checkout is not worth a row. */
export async function purchasesPage(db: DB, userId: number, cursor: Cursor | null, nowMs: number, pageSize = PURCHASES_PAGE_SIZE): Promise<Page<PurchaseRow>> {
  const query = db
    .selectFrom('purchases')
    .selectAll()
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('checkout_session_id', 'is not', null), eb('kind', '=', 'auto_recharge')]));
  const page = toPage(await keysetQuery(query, cursor, pageSize).execute(), cursor, pageSize);
  return { ...page, rows: page.rows.map((row) => purchaseRow(row, nowMs)) };
}
