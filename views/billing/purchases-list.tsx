// The purchases list on the Credits tab: date, package, amount, credits, status, the receipt link,
// and for a purchase left at checkout, Resume (while its Checkout page is open) and Cancel; a keyset
// page at a time, with Newer / Older.
import type { PurchaseRow } from '../../src/billing/purchases.ts';
import { creditsProseText, priceText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';
import { Pager } from '../credits/pager.tsx';

export interface PurchasesListProps {
  purchases: PurchaseRow[];
  newerQuery: string | null;
  olderQuery: string | null;
  /** A cursor that is not valid (tampered, or from another database). */
  error: string | null;
}

function NextStep(props: { purchase: PurchaseRow }) {
  const p = props.purchase;
  if (p.receiptHref) return <a href={p.receiptHref}>Receipt</a>;
  if (!p.cancellable) return <span class="muted">—</span>;
  return (
    <span class="purchase-actions">
      {p.resumeHref ? (
        <a class="button small" href={p.resumeHref} data-resume>
          Resume
        </a>
      ) : null}
      <form method="post" action={`/credits/purchases/${p.publicId}/cancel`} class="inline-form">
        <button type="submit" class="secondary small">
          Cancel
        </button>
      </form>
    </span>
  );
}

export function PurchasesList(props: PurchasesListProps) {
  return (
    <section id="purchases" aria-labelledby="purchases-title">
      <h2 id="purchases-title">Purchases</h2>
      {props.error ? (
        <p class="form-error" role="alert">
          {props.error} <a href="/credits/purchases#purchases">First page</a>
        </p>
      ) : props.purchases.length === 0 ? (
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
                  <td class="purchase-status" data-label="Status">
                    {p.status}
                  </td>
                  <td data-label="Receipt">
                    <NextStep purchase={p} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Purchases pages" basePath="/credits/purchases" target="#purchases" newerQuery={props.newerQuery} olderQuery={props.olderQuery} />
    </section>
  );
}
