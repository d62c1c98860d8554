// What a person sees after checkout (the success and the cancel return alike): the purchase's state
// as one card that htmx polls while it is pending (every 2 s, until the server stops answering with
// a trigger) and the page around it.
import type { Child } from 'hono/jsx';
import type { Purchase } from '../../src/db/schema.ts';
import { creditsProseText, priceText } from '../../src/money-text.ts';
import { receiptHref } from '../../src/billing/purchases.ts';
import { BalanceCard, type BalanceCardProps } from '../credits/balance-card.tsx';

export type PurchaseStatusView = 'complete' | 'pending' | 'still_processing' | 'failed' | 'review' | 'ended';

export function purchaseStatusView(purchase: Purchase, pollIsOver: boolean): PurchaseStatusView {
  if (purchase.status === 'paid') return 'complete';
  if (purchase.status === 'mismatch') return 'review';
  if (purchase.status === 'failed') return 'failed';
  if (purchase.status === 'cancelled' || purchase.status === 'expired') return 'ended';
  return pollIsOver ? 'still_processing' : 'pending';
}

function statusUrl(purchase: Purchase): string {
  return `/credits/checkout/status/${purchase.public_id}`;
}

interface Link {
  href: string;
  text: string;
  button?: boolean;
}

interface ViewParts {
  title: (purchase: Purchase) => string;
  role: 'status' | 'alert';
  /** `what` names the package, its credits and its price. */
  body: (purchase: Purchase, what: string) => Child;
  links: (purchase: Purchase) => Link[];
}

const VIEWS: Record<PurchaseStatusView, ViewParts> = {
  complete: {
    title: () => 'Purchase complete',
    role: 'status',
    body: (purchase, what) => {
      const receipt = receiptHref(purchase);
      return (
        <>
          <p class="notice">Thank you! {creditsProseText(purchase.credits_mc)} credits were added to your balance.</p>
          <p>
            {what}. A confirmation is on its way by email. {receipt ? <a href={receipt}>View the receipt</a> : null}
          </p>
        </>
      );
    },
    links: () => [{ href: '/credits', text: 'Back to Credits', button: true }],
  },
  pending: {
    title: () => 'Purchase pending',
    role: 'status',
    body: (_, what) => (
      <>
        <p>Your payment for {what} is being confirmed. The credits appear here as soon as it goes through; this page checks by itself.</p>
        {/* The check is htmx's poll: without scripts the page must be asked again by hand. */}
        <noscript>
          <p class="no-script-refresh">
            <strong>This browser is not running scripts, so the page cannot check by itself:</strong> reload it in a few seconds, or use Check again
            below.
          </p>
        </noscript>
      </>
    ),
    links: (purchase) => [{ href: statusUrl(purchase), text: 'Check again' }],
  },
  still_processing: {
    title: () => 'Still processing',
    role: 'status',
    body: (_, what) => (
      <p>
        Your payment for {what} is still being processed. Some payment methods take longer; the credits are added automatically once it
        is confirmed, and you will get an email.
      </p>
    ),
    links: (purchase) => [
      { href: statusUrl(purchase), text: 'Check again' },
      { href: '/credits', text: 'Back to Credits' },
    ],
  },
  failed: {
    title: () => 'Payment failed',
    role: 'alert',
    body: (_, what) => (
      <p>The payment for {what} did not go through, so no credits were added and nothing was charged. You can try again with another payment method.</p>
    ),
    links: () => [{ href: '/credits#packages', text: 'Buy credits', button: true }],
  },
  review: {
    title: () => 'Payment under review',
    role: 'alert',
    body: (_, what) => (
      <p>
        The amount paid did not match {what}, so no credits were added automatically. It shows in the operator’s audit (
        <code>npm run cli -- audit</code>) for a person to sort out; contact the operator of this site with the date of your purchase.
      </p>
    ),
    links: () => [],
  },
  ended: {
    title: (purchase) => `Purchase ${purchase.status}`,
    role: 'status',
    body: (purchase, what) => (
      <p>
        {purchase.status === 'cancelled' ? `No problem: the purchase of ${what} was cancelled.` : `The purchase of ${what} ${purchase.status} before it was paid.`}{' '}
        Nothing was charged and no credits were added.
      </p>
    ),
    links: () => [{ href: '/credits#packages', text: 'Buy credits', button: true }],
  },
};

/** The card's heading, also the page's title; after a cancel that came too late, it says so. */
export function purchaseStatusTitle(purchase: Purchase, view: PurchaseStatusView, afterCancel = false): string {
  return afterCancel && view === 'complete' ? 'This purchase was already paid' : VIEWS[view].title(purchase);
}

/** The card's heading is the page's own (h1) on the success and the cancel return alike: it says what came of the purchase. */
export function PurchaseStatusCard(props: { purchase: Purchase; view: PurchaseStatusView; afterCancel?: boolean }) {
  const { purchase, view } = props;
  const parts = VIEWS[view];
  const what = `${purchase.package_name} (${creditsProseText(purchase.credits_mc)} credits, ${priceText(purchase.price_cents, purchase.currency)})`;
  const title = purchaseStatusTitle(purchase, view, props.afterCancel);
  const links = parts.links(purchase);
  // Only the pending card polls: htmx swaps in whatever the status route answers.
  const poll = view === 'pending' ? { 'aria-live': 'polite', 'hx-get': statusUrl(purchase), 'hx-trigger': 'every 2s', 'hx-swap': 'outerHTML' } : {};
  return (
    <section id="purchase-status" class="card purchase-status" data-state={view} role={parts.role} {...poll}>
      <h1>{title}</h1>
      {parts.body(purchase, what)}
      {links.length > 0 ? (
        <p>
          {links.map((link, i) => (
            <>
              {i > 0 ? ' · ' : null}
              <a class={link.button ? 'button' : undefined} href={link.href}>
                {link.text}
              </a>
            </>
          ))}
        </p>
      ) : null}
    </section>
  );
}

/** The success and the cancel return, one layout: the status card, the balance card under it (the poll swaps both). */
export function CheckoutReturnPage(props: { purchase: Purchase; view: PurchaseStatusView; card: BalanceCardProps | null; afterCancel?: boolean }) {
  return (
    <>
      <PurchaseStatusCard purchase={props.purchase} view={props.view} afterCancel={props.afterCancel} />
      {props.card ? <BalanceCard {...props.card} /> : null}
    </>
  );
}

/** What the poll swaps in: the card, and the updated balance card out of band when the route sends one (once credited). */
export function PurchaseStatusPartial(props: { purchase: Purchase; view: PurchaseStatusView; card: BalanceCardProps | null }) {
  return (
    <>
      <PurchaseStatusCard purchase={props.purchase} view={props.view} />
      {props.card ? <BalanceCard {...props.card} oob /> : null}
    </>
  );
}
