// The rate card: credits per 1k tokens per model (and $ per 1M tokens, the unit the industry quotes), when it last changed, and how charging works.
import type { Rate } from '../../src/db/schema.ts';
import { modelLabel } from '../../src/pricing/rates.ts';
import { creditsExactGroupedText, usdPer1MTokensText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';
import { LabelText } from '../label-text.tsx';

function RateCell(props: { mcPer1k: number }) {
  return (
    <>
      <span>{creditsExactGroupedText(props.mcPer1k)}</span>{' '}
      <span class="per-1m">{usdPer1MTokensText(props.mcPer1k)}</span>
    </>
  );
}

export function RateCard(props: { rates: Rate[] }) {
  const lastUpdatedMs = Math.max(...props.rates.map((r) => r.created_at_ms));
  return (
    <section id="rate-card" class="card" aria-labelledby="rates-title">
      <h2 id="rates-title">Rate card</h2>
      <div class="table-wrap">
        <table class="rate-table stack-on-phone">
          <caption>Credits per 1,000 tokens, and under each the dollars per 1M tokens</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" class="num">Input</th>
              <th scope="col" class="num">Cached input</th>
              <th scope="col" class="num">Output</th>
            </tr>
          </thead>
          <tbody>
            {props.rates.map((r) => (
              <tr data-model={r.model}>
                <th scope="row">
                  <LabelText text={modelLabel(r)} />
                </th>
                <td class="num" data-label="Input" data-mc={r.input_mc_per_1k}><RateCell mcPer1k={r.input_mc_per_1k} /></td>
                <td class="num" data-label="Cached input" data-mc={r.cached_input_mc_per_1k}><RateCell mcPer1k={r.cached_input_mc_per_1k} /></td>
                {r.kind === 'embeddings' ? (
                  <td class="num" data-label="Output">— (embeddings)</td>
                ) : (
                  <td class="num" data-label="Output" data-mc={r.output_mc_per_1k}><RateCell mcPer1k={r.output_mc_per_1k} /></td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted">
        {props.rates.length > 0 ? <>Last updated {utcDateTime(lastUpdatedMs)} UTC. </> : null}We only charge based on actual token usage. 1,000 credits = $1.00.
      </p>
    </section>
  );
}
