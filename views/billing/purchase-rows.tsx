// The rows every purchase summary shows (package, credits, amount): the demo checkout and the receipt.
import type { Purchase } from '../../src/db/schema.ts';
import { creditsProseText, priceText } from '../../src/money-text.ts';

export function PurchaseRows(props: { purchase: Purchase; amountLabel: string }) {
  const { purchase } = props;
  return (
    <>
      <tr>
        <th scope="row">Package</th>
        <td>{purchase.package_name}</td>
      </tr>
      <tr>
        <th scope="row">Credits</th>
        <td data-mc={purchase.credits_mc}>{creditsProseText(purchase.credits_mc)}</td>
      </tr>
      <tr>
        <th scope="row">{props.amountLabel}</th>
        <td data-cents={purchase.price_cents}>{priceText(purchase.price_cents, purchase.currency)}</td>
      </tr>
    </>
  );
}
