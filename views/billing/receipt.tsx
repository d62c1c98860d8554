// The local receipt for a demo purchase (a Stripe purchase's receipt is Stripe's own page).
import type { Purchase } from '../../src/db/schema.ts';
import { creditReference } from '../../src/billing/clawback.ts';
import { utcDateTime } from '../time.ts';
import { PurchaseRows } from './purchase-rows.tsx';

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
          <PurchaseRows purchase={purchase} amountLabel="Amount" />
          <tr>
            <th scope="row">Reference</th>
            <td>
              <code>{creditReference(purchase)}</code>
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
