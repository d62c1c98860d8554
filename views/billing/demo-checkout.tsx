// The demo checkout page (PAYMENTS=demo): looks and behaves like a hosted checkout, with Pay and
// Cancel, and says plainly that no card is charged.
import type { Purchase } from '../../src/db/schema.ts';
import { priceText } from '../../src/money-text.ts';
import { PurchaseRows } from './purchase-rows.tsx';

export function DemoCheckoutPage(props: { purchase: Purchase; sessionId: string; sessionStatus: 'open' | 'complete' | 'expired' }) {
  const { purchase, sessionId } = props;
  const base = `/credits/demo-checkout/${sessionId}`;
  return (
    <section class="card narrow demo-checkout" aria-labelledby="demo-checkout-title">
      <h1 id="demo-checkout-title">Checkout</h1>
      <p class="banner-demo demo-note" role="note">
        <strong>Demo payment: no card is charged.</strong> This page stands in for the payment provider; Pay adds the credits through the
        same steps a real payment takes.
      </p>
      <table>
        <tbody>
          <PurchaseRows purchase={purchase} amountLabel="Total" />
        </tbody>
      </table>
      {props.sessionStatus === 'open' ? (
        // One form, so Pay and Cancel sit side by side; Cancel posts to its own URL.
        <form method="post" action={`${base}/pay`} class="demo-checkout-actions">
          <button type="submit">Pay {priceText(purchase.price_cents, purchase.currency)}</button>{' '}
          <button type="submit" class="secondary" formaction={`${base}/cancel`}>
            Cancel
          </button>
        </form>
      ) : (
        <p>
          This checkout is {props.sessionStatus === 'complete' ? 'already paid' : 'no longer open'}. <a href="/credits">Back to Credits</a>
        </p>
      )}
    </section>
  );
}
