// The balance card: settled balance (2 decimals, rounded down) and USD, then available and held.
import type { WalletSummary } from '../../src/ledger/wallet.ts';
import { creditsText } from '../../src/pricing/format.ts';

/** Credits with 2 decimals, rounded down: 1234567 mc → "1,234.56". */
export function creditsRoundedDown(amountMc: number): string {
  const hundredths = Math.floor(amountMc / 10);
  const whole = Math.floor(hundredths / 100);
  return `${whole.toLocaleString('en-US')}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** Dollars rounded down to the cent: 1,000 credits = $1.00, so 1 cent = 10,000 mc. */
export function usdRoundedDown(amountMc: number): string {
  const cents = Math.floor(amountMc / 10_000);
  return `$${Math.floor(cents / 100).toLocaleString('en-US')}.${String(cents % 100).padStart(2, '0')}`;
}

export function BalanceCard(props: { wallet: WalletSummary; oob?: boolean }) {
  const { wallet } = props;
  return (
    <section id="balance-card" class="card balance-card" aria-labelledby="balance-title" hx-swap-oob={props.oob ? 'true' : undefined}>
      <h2 id="balance-title">Balance</h2>
      <p class="balance">
        <span class="balance-credits" data-mc={wallet.balanceMc}>
          {creditsRoundedDown(wallet.balanceMc)}
        </span>{' '}
        credits <span class="balance-usd muted">≈ {usdRoundedDown(wallet.balanceMc)}</span>
      </p>
      <p class="muted">
        available <span data-mc={wallet.availableMc}>{creditsText(wallet.availableMc)}</span> · held <span data-mc={wallet.heldMc}>{creditsText(wallet.heldMc)}</span> by{' '}
        {wallet.heldCalls} {wallet.heldCalls === 1 ? 'call' : 'calls'}
      </p>
    </section>
  );
}
