// What a person sees after checkout: the purchase's state as one card that htmx polls while it is
// pending (every 2 s, until the server stops answering with a trigger) and the page around it.
import type { Purchase } from '../../src/db/schema.ts';
import { creditsAmountText, priceText } from '../../src/billing/money.ts';
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

export function PurchaseStatusCard(props: { purchase: Purchase; view: PurchaseStatusView }) {
  const { purchase } = props;
  const what = `${purchase.package_name} (${creditsAmountText(purchase.credits_mc)} credits, ${priceText(purchase.price_cents, purchase.currency)})`;
  switch (props.view) {
    case 'complete': {
      const receipt = receiptHref(purchase);
      return (
        <section id="purchase-status" class="card purchase-status" data-state="complete" role="status">
          <h2>Purchase complete</h2>
          <p class="notice">
            Thank you! {creditsAmountText(purchase.credits_mc)} credits were added to your balance.
          </p>
          <p>
            {what}. A confirmation is on its way by email. {receipt ? <a href={receipt}>View the receipt</a> : null}
          </p>
          <p>
            <a class="button" href="/credits">
              Back to Credits
            </a>
          </p>
        </section>
      );
    }
    case 'pending':
      return (
        <section
          id="purchase-status"
          class="card purchase-status"
          data-state="pending"
          role="status"
          aria-live="polite"
          hx-get={statusUrl(purchase)}
          hx-trigger="every 2s"
          hx-swap="outerHTML"
        >
          <h2>Purchase pending</h2>
          <p>
            Your payment for {what} is being confirmed. The credits appear here as soon as it goes through; this page checks by
            itself.
          </p>
          <p class="muted">
            <a href={statusUrl(purchase)}>Check again</a>
          </p>
        </section>
      );
    case 'still_processing':
      return (
        <section id="purchase-status" class="card purchase-status" data-state="still_processing" role="status">
          <h2>Still processing</h2>
          <p>
            Your payment for {what} is still being processed. Some payment methods take longer; the credits are added automatically
            once it is confirmed, and you will get an email.
          </p>
          <p>
            <a href={statusUrl(purchase)}>Check again</a> · <a href="/credits">Back to Credits</a>
          </p>
        </section>
      );
    case 'failed':
      return (
        <section id="purchase-status" class="card purchase-status" data-state="failed" role="alert">
          <h2>Payment failed</h2>
          <p>The payment for {what} did not go through, so no credits were added and nothing was charged. You can try again with another payment method.</p>
          <p>
            <a href="/credits#packages">Buy credits</a>
          </p>
        </section>
      );
    case 'review':
      return (
        <section id="purchase-status" class="card purchase-status" data-state="review" role="alert">
          <h2>Payment under review</h2>
          <p>
            The amount paid did not match {what}, so no credits were added automatically. It shows in the operator’s audit
            (<code>npm run cli -- audit</code>) for a person to sort out; contact the operator of this site with the date of your purchase.
          </p>
        </section>
      );
    case 'ended':
      return (
        <section id="purchase-status" class="card purchase-status" data-state="ended" role="status">
          <h2>Purchase {purchase.status}</h2>
          <p>This purchase was {purchase.status} before it was paid: nothing was charged and no credits were added.</p>
          <p>
            <a href="/credits#packages">Buy credits</a>
          </p>
        </section>
      );
  }
}

/** The success return page: the status card with the balance card beside it (the poll swaps both). */
export function CheckoutReturnPage(props: { purchase: Purchase; view: PurchaseStatusView; card: BalanceCardProps }) {
  return (
    <>
      <h1>Buying credits</h1>
      <PurchaseStatusCard purchase={props.purchase} view={props.view} />
      <BalanceCard {...props.card} />
    </>
  );
}

/** What the poll swaps in: the card, and once credited the updated balance card out of band. */
export function PurchaseStatusPartial(props: { purchase: Purchase; view: PurchaseStatusView; card: BalanceCardProps }) {
  return (
    <>
      <PurchaseStatusCard purchase={props.purchase} view={props.view} />
      {props.view === 'complete' ? <BalanceCard {...props.card} oob /> : null}
    </>
  );
}
