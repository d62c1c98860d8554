// Inside the balance card: auto-recharge's state and each cap's use this month, with a link to change them.
import type { LimitsSummary } from '../../src/settings/summary.ts';
import { creditsExactGroupedText } from '../../src/money-text.ts';
import { LabelText } from '../label-text.tsx';

export function LimitsSummaryView(props: { limits: LimitsSummary }) {
  const { autoRecharge, caps } = props.limits;
  return (
    <div class="limits-summary">
      <p class="auto-recharge-state">
        <strong>Auto-recharge:</strong>{' '}
        {autoRecharge.enabled
          ? `on: buys ${autoRecharge.packageName ?? 'a package'} when less than ${creditsExactGroupedText(autoRecharge.thresholdMc)} credits are available (${autoRecharge.succeededThisMonth} of ${autoRecharge.monthlyLimit} this month)${autoRecharge.pending ? '; a recharge is being paid now' : ''}`
          : 'off'}
      </p>
      {caps.length > 0 ? (
        <ul class="cap-uses">
          {caps.map((cap) => (
            <li data-cap={cap.label}>
              <LabelText text={cap.label} />: <span data-mc={cap.spentMc}>{creditsExactGroupedText(cap.spentMc)}</span> of <span data-mc={cap.capMc}>{creditsExactGroupedText(cap.capMc)}</span> credits this month
              <meter min={0} max={cap.capMc} value={Math.min(cap.spentMc, cap.capMc)} low={cap.capMc * 0.8} high={cap.capMc * 0.99} optimum={0} />
            </li>
          ))}
        </ul>
      ) : null}
      <p>
        <a href="/settings/billing">Alerts, auto-recharge and caps</a>
      </p>
    </div>
  );
}
