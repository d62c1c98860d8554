// The purchases list on the Credits tab: date, package, amount, credits, status and the receipt link.
import type { PurchaseRow } from '../../src/billing/purchases.ts';
import { creditsProseText, priceText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';

export function PurchasesList(props: { purchases: PurchaseRow[] }) {
  return (
    <section id="purchases" aria-labelledby="purchases-title">
      <h2 id="purchases-title">Purchases</h2>
      {props.purchases.length === 0 ? (
        <p class="muted">No purchases yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="purchases-table stack-on-phone">
            <thead>
              <tr>
                <th scope="col">Date (UTC)</th>
                <th scope="col">Package</th>
                <th scope="col" class="num">Amount</th>
                <th scope="col" class="num">Credits</th>
                <th scope="col">Status</th>
                <th scope="col">Receipt</th>
              </tr>
            </thead>
            <tbody>
              {props.purchases.map((p) => (
                <tr data-purchase={p.publicId} data-status={p.status}>
                  <td data-label="Date (UTC)">{utcDateTime(p.createdAtMs)}</td>
                  <td data-label="Package">{p.packageName}</td>
                  <td class="num" data-label="Amount" data-cents={p.priceCents}>
                    {priceText(p.priceCents, p.currency)}
                  </td>
                  <td class="num" data-label="Credits" data-mc={p.creditsMc}>
                    {creditsProseText(p.creditsMc)}
                  </td>
                  <td class="purchase-status" data-label="Status">{p.status}</td>
                  <td data-label="Receipt">{p.receiptHref ? <a href={p.receiptHref}>Receipt</a> : <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
