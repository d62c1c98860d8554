// The cost estimator: paste a prompt, pick a model, see the credits and dollars, updated as you type.
import type { Estimate } from '../../src/credits/estimate.ts';
import type { Rate } from '../../src/db/schema.ts';
import { groupedCountText, creditsExactGroupedText, usdRoundedUpText } from '../../src/money-text.ts';
import { modelLabel } from '../../src/pricing/rates.ts';

export interface EstimatorValues {
  text: string;
  model: string;
  outputTokens: string;
}

export function EstimateResult(props: { estimate: Estimate | null; errors?: Record<string, string> }) {
  const errors = props.errors ?? {};
  if (Object.keys(errors).length > 0) {
    return (
      <div id="estimate-result" class="estimate-result" role="status" aria-live="polite">
        {Object.values(errors).map((message) => (
          <p class="field-error">{message}</p>
        ))}
      </div>
    );
  }
  const estimate = props.estimate;
  return (
    <div id="estimate-result" class="estimate-result" role="status" aria-live="polite">
      {estimate ? (
        <>
          <p>
            About <strong data-mc={estimate.costMc}>{creditsExactGroupedText(estimate.costMc)}</strong> credits ({usdRoundedUpText(estimate.costMc)}) for{' '}
            {groupedCountText(estimate.inputTokens)} input and {groupedCountText(estimate.outputTokens)} output tokens.
          </p>
          <p class="muted">
            {estimate.affordableRequests === null
              ? 'Such a request costs nothing.'
              : `Your available balance covers about ${groupedCountText(estimate.affordableRequests)} such request${estimate.affordableRequests === 1 ? '' : 's'}.`}
          </p>
        </>
      ) : (
        <p class="muted">Paste a prompt to see what it would cost.</p>
      )}
    </div>
  );
}

export function Estimator(props: { rates: Rate[]; values: EstimatorValues; estimate: Estimate | null; errors?: Record<string, string> }) {
  const errors = props.errors ?? {};
  return (
    <section id="estimator" class="card" aria-labelledby="estimator-title">
      <h2 id="estimator-title">Cost estimator</h2>
      <form method="post" action="/credits/estimate" enctype="multipart/form-data" hx-post="/credits/estimate" hx-trigger="input changed delay:400ms, change, submit" hx-target="#estimate-result" hx-swap="outerHTML">
        <label for="estimate-text">Prompt</label>
        <textarea id="estimate-text" name="text" rows={4} aria-invalid={errors.text ? 'true' : undefined}>
          {props.values.text}
        </textarea>
        <div class="field-row">
          <div>
            <label for="estimate-model">Model</label>
            <select id="estimate-model" name="model" aria-invalid={errors.model ? 'true' : undefined}>
              {props.rates.map((r) => (
                <option value={r.model} selected={r.model === props.values.model}>
                  {modelLabel(r)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="estimate-output">Expected output tokens</label>
            <input id="estimate-output" name="output_tokens" type="number" min="0" step="1" inputmode="numeric" value={props.values.outputTokens} placeholder="0" aria-invalid={errors.output_tokens ? 'true' : undefined} />
          </div>
        </div>
        <noscript>
          <button type="submit">Estimate</button>
        </noscript>
      </form>
      <EstimateResult estimate={props.estimate} errors={props.errors} />
    </section>
  );
}
