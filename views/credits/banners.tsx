// Banners above the Credits tab: the low-balance warning (under the user's own threshold).
import { creditsRoundedDownText } from '../../src/money-text.ts';

export function LowBalanceBanner(props: { balanceMc: number; thresholdMc: number; canBuy: boolean }) {
  if (props.thresholdMc <= 0 || props.balanceMc >= props.thresholdMc) return null;
  return (
    <p class="banner-inline banner-warn" role="status" id="low-balance-banner">
      Your balance is below {creditsRoundedDownText(props.thresholdMc)} credits.{' '}
      {props.canBuy ? <a href="/credits#packages">Buy credits</a> : 'Ask the operator for more credits.'} to keep your calls running.
    </p>
  );
}
