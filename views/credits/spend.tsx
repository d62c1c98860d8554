// Spend this month: the UTC month's total, by model and by API key, from the monthly rollup.
import type { MonthSpend, SpendLine } from '../../src/usage/usage-queries.ts';
import { creditsDisplay, tokensDisplay } from '../money.ts';

function Lines(props: { title: string; lines: SpendLine[] }) {
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
                <th scope="row">{line.label}</th>
                <td class="num" data-mc={line.chargedMc}>{creditsDisplay(line.chargedMc)}</td>
                <td class="num muted">{tokensDisplay(line.calls)} calls</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function SpendThisMonth(props: { spend: MonthSpend; modelLabels: Map<string, string> }) {
  const byModel = props.spend.byModel.map((line) => ({ ...line, label: props.modelLabels.get(line.label) ?? line.label }));
  return (
    <section id="spend" class="card" aria-labelledby="spend-title">
      <h2 id="spend-title">Spend this month</h2>
      <p>
        <span class="spend-total" data-mc={props.spend.totalMc}>
          {creditsDisplay(props.spend.totalMc)}
        </span>{' '}
        credits in {props.spend.month} (UTC) over {tokensDisplay(props.spend.calls)} calls
      </p>
      <div class="spend-split">
        <Lines title="By model" lines={byModel} />
        <Lines title="By API key" lines={props.spend.byKey} />
      </div>
    </section>
  );
}
