// The local receipt for a demo purchase (a Stripe purchase's receipt is Stripe's own page).
import type { Purchase } from '../../src/db/schema.ts';
import { creditsAmountText, priceText } from '../../src/billing/money.ts';
import { utcDateTime } from '../time.ts';

export function DemoReceipt(props: { purchase: Purchase }) {
  const { purchase } = props;
  return (
    <section class="card narrow receipt" aria-labelledby="receipt-title">
      <h1 id="receipt-title">Receipt</h1>
      <p class="banner-demo" role="note">
        Demo payment: no card was charged.
      </p>
      <table>
        <tbody>
          <tr>
            <th scope="row">Date (UTC)</th>
            <td>{utcDateTime(purchase.paid_at_ms ?? purchase.created_at_ms)}</td>
          </tr>
          <tr>
            <th scope="row">Package</th>
            <td>{purchase.package_name}</td>
          </tr>
          <tr>
            <th scope="row">Credits</th>
            <td data-mc={purchase.credits_mc}>{creditsAmountText(purchase.credits_mc)}</td>
          </tr>
          <tr>
            <th scope="row">Amount</th>
            <td data-cents={purchase.price_cents}>{priceText(purchase.price_cents, purchase.currency)}</td>
          </tr>
          <tr>
            <th scope="row">Reference</th>
            <td>
              <code>{purchase.checkout_session_id}</code>
            </td>
          </tr>
        </tbody>
      </table>
      <p>
        <a href="/credits">Back to Credits</a>
      </p>
    </section>
  );
}
