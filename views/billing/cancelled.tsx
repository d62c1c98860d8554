// The cancel return: a polite word that nothing was charged (or, if the payment went through after
// all, that it stands and the credits were added).
import type { Purchase } from '../../src/db/schema.ts';
import { creditsAmountText } from '../../src/billing/money.ts';

export function CheckoutCancelled(props: { purchase: Purchase }) {
  const { purchase } = props;
  if (purchase.status === 'paid') {
    return (
      <section id="purchase-status" class="card" data-state="complete" role="status">
        <h1>This purchase was already paid</h1>
        <p>
          The payment for {purchase.package_name} went through before it was cancelled, so it stands: {creditsAmountText(purchase.credits_mc)}{' '}
          credits were added to your balance.
        </p>
        <p>
          <a class="button" href="/credits">
            Back to Credits
          </a>
        </p>
      </section>
    );
  }
  return (
    <section id="purchase-status" class="card" data-state="cancelled" role="status">
      <h1>Purchase cancelled</h1>
      <p>No problem: the purchase of {purchase.package_name} was cancelled. Nothing was charged and no credits were added.</p>
      <p>Whenever you are ready, you can buy credits from the Credits tab.</p>
      <p>
        <a class="button" href="/credits#packages">
          Back to Credits
        </a>
      </p>
    </section>
  );
}
