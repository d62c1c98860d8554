// Spend this month: the UTC month's total, by model and by API key, from the monthly rollup.
import type { KeySpendLine, MonthSpend, SpendLine } from '../../src/usage/usage-queries.ts';
import { groupedCountText, creditsExactGroupedText, usdRoundedUpText } from '../../src/money-text.ts';
import { keyLabel } from '../labels.ts';
import { LabelText } from '../label-text.tsx';

type LabelledLine = SpendLine & { label: string };

function keyLineLabel(line: KeySpendLine): string {
  if (line.apiKeyId === null) return 'Playground';
  return line.keyName !== null && line.keyPrefix !== null ? keyLabel({ name: line.keyName, prefix: line.keyPrefix }) : `key ${line.apiKeyId}`;
}

function Lines(props: { title: string; lines: LabelledLine[] }) {
  return (
    <div>
      <h3>{props.title}</h3>
      {props.lines.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <table class="compact">
          <tbody>
            {props.lines.map((line) => (
              <tr>
                <th scope="row">
                  <LabelText text={line.label} />
                </th>
                <td class="num" data-mc={line.chargedMc}>{creditsExactGroupedText(line.chargedMc)}</td>
                <td class="num muted">{groupedCountText(line.calls)} calls</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function SpendThisMonth(props: { spend: MonthSpend; modelLabels: Map<string, string> }) {
  const byModel = props.spend.byModel.map((line) => ({ ...line, label: props.modelLabels.get(line.model) ?? line.model }));
  const byKey = props.spend.byKey.map((line) => ({ ...line, label: keyLineLabel(line) }));
  return (
    <section id="spend" class="card" aria-labelledby="spend-title">
      <h2 id="spend-title">Spend this month</h2>
      <p>
        <span class="spend-total" data-mc={props.spend.totalMc}>
          {creditsExactGroupedText(props.spend.totalMc)}
        </span>{' '}
        credits <span class="spend-usd muted">(≈ {usdRoundedUpText(props.spend.totalMc)})</span> in {props.spend.month} (UTC) over {groupedCountText(props.spend.calls)} calls
      </p>
      <div class="spend-split">
        <Lines title="By model" lines={byModel} />
        <Lines title="By API key" lines={byKey} />
      </div>
    </section>
  );
}
