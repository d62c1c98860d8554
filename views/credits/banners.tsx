// Banners above the Credits tab: the low-balance warning (under the user's own threshold, named in whole credits as the mail names it).
import { creditsProseText } from '../../src/money-text.ts';

/** Not for a new account: a balance that was never above the threshold has not run low (the balance card welcomes it instead). */
export function LowBalanceBanner(props: { balanceMc: number; thresholdMc: number; canBuy: boolean; newAccount?: boolean }) {
  if (props.newAccount || props.thresholdMc <= 0 || props.balanceMc >= props.thresholdMc) return null;
  return (
    <p class="banner-inline banner-warn" role="status" id="low-balance-banner">
      Your balance is below {creditsProseText(props.thresholdMc)} credits.{' '}
      {props.canBuy ? <a href="/credits#packages">Buy credits</a> : 'Ask the operator for more credits.'} to keep your calls running.
    </p>
  );
}
