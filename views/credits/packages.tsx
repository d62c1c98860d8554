// The packages grid: price, credits, bonus, $ per 1k credits, savings against Starter, a Best value
// badge, and a Buy button per card. The cards share one form, so "Save the card" is asked once for
// whichever is bought: the button pressed sends its package, and every Buy button is disabled while
// one submits (no double purchase).
import type { PackageOffer } from '../../src/pricing/packages.ts';
import { creditsProseText, usdFromMillicentsText, priceText, percentFromTenthsText } from '../../src/money-text.ts';

export function PackagesGrid(props: { offers: PackageOffer[]; canBuy: boolean }) {
  const cards = (
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
            <p class="buy">
              {/* htmx posts from the button (its own spinner shows) with the form's fields and the button's package. */}
              <button type="submit" name="package" value={offer.pkg.id} hx-post="/credits/checkout" hx-disabled-elt="#buy-form button" hx-indicator="find .spinner">
                Buy {offer.pkg.name} <span class="spinner htmx-indicator" aria-hidden="true"></span>
              </button>
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
  return (
    <section id="packages" aria-labelledby="packages-title">
      <h2 id="packages-title">Buy credits</h2>
      {props.canBuy ? (
        <form id="buy-form" method="post" action="/credits/checkout">
          <label class="checkbox save-card">
            <input type="checkbox" name="save_card" value="on" /> Save the card for auto-recharge (with whichever package you buy)
          </label>
          {cards}
        </form>
      ) : (
        <>
          <p class="muted">Buying is turned off on this site: credits are granted by the operator.</p>
          {cards}
        </>
      )}
    </section>
  );
}
