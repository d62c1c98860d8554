// The packages grid: price, credits, bonus, $ per 1k credits, savings against Starter, a Best value
// badge, and a Buy form per card that disables itself while it submits (no double purchase).
import type { PackageOffer } from '../../src/pricing/packages.ts';
import { creditsProseText, usdFromMillicentsText, priceText, percentFromTenthsText } from '../../src/money-text.ts';

export function PackagesGrid(props: { offers: PackageOffer[]; canBuy: boolean }) {
  return (
    <section id="packages" aria-labelledby="packages-title">
      <h2 id="packages-title">Buy credits</h2>
      {props.canBuy ? null : <p class="muted">Buying is turned off on this site: credits are granted by the operator.</p>}
      <ul class="packages">
        {props.offers.map((offer) => (
          <li class={`card package${offer.pkg.best_value ? ' best-value' : ''}`} data-package={offer.pkg.id}>
            <h3>
              {offer.pkg.name} {offer.pkg.best_value ? <span class="badge">Best value</span> : null}
            </h3>
            <p class="price">{priceText(offer.pkg.price_cents, offer.pkg.currency)}</p>
            <p class="package-credits" data-mc={offer.pkg.credits_mc}>
              {creditsProseText(offer.pkg.credits_mc)} credits
            </p>
            <p class="package-bonus">{offer.bonusMc > 0 ? `includes +${creditsProseText(offer.bonusMc)} bonus (${percentFromTenthsText(offer.bonusTenthsPercent)})` : 'no bonus'}</p>
            <p class="muted per-1k">{usdFromMillicentsText(offer.millicentsPer1kCredits)} per 1k credits</p>
            {offer.savingsTenthsPercent > 0 ? <p class="savings">Save {percentFromTenthsText(offer.savingsTenthsPercent)} vs Starter</p> : null}
            {props.canBuy ? (
              <form method="post" action="/credits/checkout" hx-post="/credits/checkout" hx-disabled-elt="find button" hx-indicator="find .spinner">
                <input type="hidden" name="package" value={offer.pkg.id} />
                <label class="checkbox">
                  <input type="checkbox" name="save_card" value="on" /> Save the card for auto-recharge
                </label>
                <button type="submit">
                  Buy {offer.pkg.name} <span class="spinner htmx-indicator" aria-hidden="true"></span>
                </button>
              </form>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
