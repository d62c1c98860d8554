// The balance card: settled balance (2 decimals, rounded down) and USD, available and held, and the
// out-of-credits state. One component, so other pages swap it in out-of-band (hx-swap-oob).
import type { WalletSummary } from '../../src/ledger/wallet.ts';
import type { LimitsSummary } from '../../src/settings/summary.ts';
import { groupedCountText, creditsExactGroupedText, creditsRoundedDownText, usdRoundedDownText } from '../../src/money-text.ts';
import { LimitsSummaryView } from './limits-summary.tsx';
import { utcDateTime } from '../time.ts';
import type { LivePromo } from '../../src/ledger/promo-grants.ts';

export interface BalanceCardProps {
  wallet: WalletSummary;
  /** From isOutOfCredits: the same rule the gateway refuses calls by. */
  outOfCredits: boolean;
  /** False when PAYMENTS=off: credits come from the operator. */
  canBuy: boolean;
  /** Auto-recharge and caps; loadOverview gives every page the same card. */
  limits: LimitsSummary;
  /** What is left of each live promo grant and when it expires (livePromoGrants). */
  promo: LivePromo[];
  /** No credit ever: a welcome with the first step, instead of the out-of-credits alarm. */
  newAccount?: boolean;
  /** Whole days the balance lasts at the last 7 days' rate (loadOverview); null or absent: not said. */
  runOutDays?: number | null;
  oob?: boolean;
}

function runOutText(days: number): string {
  if (days === 0) return 'less than a day';
  return `${groupedCountText(days)} ${days === 1 ? 'day' : 'days'}`;
}

export function BalanceCard(props: BalanceCardProps) {
  const { wallet, canBuy } = props;
  return (
    <section
      id="balance-card"
      class={`card balance-card${props.outOfCredits && !props.newAccount ? ' is-out' : ''}`}
      aria-labelledby="balance-title"
      hx-swap-oob={props.oob ? 'true' : undefined}
    >
      <h2 id="balance-title">Balance</h2>
      <p class="balance">
        <span class="balance-credits" data-mc={wallet.balanceMc}>
          {creditsRoundedDownText(wallet.balanceMc)}
        </span>{' '}
        credits <span class="balance-usd muted">≈ {usdRoundedDownText(wallet.balanceMc)}</span>
      </p>
      {props.runOutDays !== null && props.runOutDays !== undefined && !props.outOfCredits ? (
        <p class="run-out" data-days={props.runOutDays}>
          At the last 7 days' rate your balance lasts about {runOutText(props.runOutDays)}.
        </p>
      ) : null}
      <p class="muted balance-detail">
        available <span data-mc={wallet.availableMc}>{creditsExactGroupedText(wallet.availableMc)}</span> · held{' '}
        <span data-mc={wallet.heldMc}>{creditsExactGroupedText(wallet.heldMc)}</span> by {wallet.heldCalls} {wallet.heldCalls === 1 ? 'call' : 'calls'}
      </p>
      {props.promo.length > 0 ? (
        <ul class="promo-expiring muted">
          {props.promo.map((grant) => (
            <li>
              <span data-mc={grant.amountMc}>{creditsExactGroupedText(grant.amountMc)}</span> credits expire on {utcDateTime(grant.expiresAtMs)} UTC
            </li>
          ))}
        </ul>
      ) : null}
      {props.outOfCredits && props.newAccount ? (
        <div class="welcome">
          <p>
            <strong>Welcome! Add credits to start.</strong> Credits pay for your prompts and the answers you get back, in the playground and through the API.
          </p>
          {canBuy ? (
            <a class="button" href="/credits#packages">
              Add credits
            </a>
          ) : (
            <p>Credits here are granted by the operator of this site: ask them for some.</p>
          )}
        </div>
      ) : props.outOfCredits ? (
        <div class="out-of-credits" role="alert">
          <p>
            <strong>You are out of credits.</strong> Your balance no longer covers a prompt and its answer, so API and playground calls are refused (402) until you add credits.
          </p>
          {canBuy ? (
            <a class="button" href="/credits#packages">
              Buy credits now
            </a>
          ) : (
            <p>Ask the operator of this site to grant you credits.</p>
          )}
        </div>
      ) : canBuy ? (
        <a class="button secondary" href="/credits#packages">
          Add credits
        </a>
      ) : null}
      <LimitsSummaryView limits={props.limits} />
    </section>
  );
}
