// One call explained: the endpoint, the rates that were applied (not today's), the formula with its
// numbers (reasoning tokens within the output), hold against charge, shortfall, status and what the
// charge was based on, latency, the key, and the upstream that answered with what was tried before it.
import type { UsageDetail } from '../../src/usage/usage-queries.ts';
import { costMc, costMicrocredits } from '../../src/pricing/cost.ts';
import { chargeBasis, wasVoided } from '../../src/usage/charge-basis.ts';
import { groupedCountText, creditsExactGroupedText } from '../../src/money-text.ts';
import { ENDPOINT_LABELS, keyLabel } from '../labels.ts';
import { utcDateTime } from '../time.ts';
import { LabelText } from '../label-text.tsx';

const STATUS_TEXT = { ok: 'Completed', aborted: 'Aborted', upstream_error: 'Upstream error' } as const;

/** `back`: the table page (filters and page) the call was opened from. */
export function UsageDetailView(props: { detail: UsageDetail; modelLabel: string; back: { href: string; label: string } }) {
  const u = props.detail.usage;
  const tokens = { inputTokens: u.input_tokens, cachedInputTokens: u.cached_input_tokens, outputTokens: u.output_tokens };
  const micro = groupedCountText(costMicrocredits(tokens, u));
  const costOfCallMc = costMc(tokens, u, u.rounding_mode);
  const rounding =
    u.rounding_mode === 'exact'
      ? `rounded up to a whole millicredit: ⌈${micro} ÷ 1,000⌉ mc`
      : `rounded up to a whole credit per request: ⌈${micro} ÷ 1,000,000⌉ credits`;
  return (
    <article class="usage-detail" aria-labelledby="detail-title">
      <h1 id="detail-title">
        Call <code>{u.request_id}</code>
      </h1>
      <p>
        <a class="back-link" href={props.back.href}>{props.back.label}</a>
      </p>
      <dl class="facts">
        <dt>Date (UTC)</dt>
        <dd>{utcDateTime(u.created_at_ms)}</dd>
        <dt>Endpoint</dt>
        <dd class="endpoint">{ENDPOINT_LABELS[u.endpoint]}</dd>
        <dt>Model</dt>
        <dd>
          <LabelText text={props.modelLabel} />
        </dd>
        <dt>Status</dt>
        <dd>
          {STATUS_TEXT[u.status]}
          {u.estimated ? ' · tokens counted here' : ' · tokens as reported by the upstream'}
        </dd>
        <dt>Charged for</dt>
        <dd class="charge-basis">{chargeBasis(u)}</dd>
        <dt>Latency</dt>
        <dd>{groupedCountText(u.latency_ms)} ms</dd>
        <dt>API key</dt>
        <dd>{props.detail.apiKey ? keyLabel(props.detail.apiKey) : 'none (playground)'}</dd>
        {u.upstream ? (
          <>
            <dt>Upstream</dt>
            <dd class="upstream">
              {u.upstream}
              {u.upstream_attempts && u.upstream_attempts !== `${u.upstream}: ok` ? <span class="upstream-attempts"> · attempts in order: {u.upstream_attempts}</span> : null}
            </dd>
          </>
        ) : null}
        {u.upstream_response_id ? (
          <>
            <dt>Upstream response id</dt>
            <dd>
              <code>{u.upstream_response_id}</code>
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Rates applied</h2>
      <p class="muted">Fixed when the call started; later changes to the rate card do not touch this call.</p>
      <table class="compact">
        <tbody>
          <tr>
            <th scope="row">Input</th>
            <td class="num" data-mc={u.input_mc_per_1k}>{creditsExactGroupedText(u.input_mc_per_1k)} credits / 1k tokens</td>
          </tr>
          <tr>
            <th scope="row">Cached input</th>
            <td class="num" data-mc={u.cached_input_mc_per_1k}>{creditsExactGroupedText(u.cached_input_mc_per_1k)} credits / 1k tokens</td>
          </tr>
          <tr>
            <th scope="row">Output</th>
            <td class="num" data-mc={u.output_mc_per_1k}>{creditsExactGroupedText(u.output_mc_per_1k)} credits / 1k tokens</td>
          </tr>
        </tbody>
      </table>
      <h2>How the charge was computed</h2>
      {wasVoided(u) ? (
        <p class="notice">Not charged: the upstream failed before sending any output, so the hold was released in full.</p>
      ) : (
        <p class="formula">
          ({groupedCountText(u.input_tokens)} input − {groupedCountText(u.cached_input_tokens)} cached) × {groupedCountText(u.input_mc_per_1k)} + {groupedCountText(u.cached_input_tokens)} cached × {groupedCountText(u.cached_input_mc_per_1k)} +{' '}
          {groupedCountText(u.output_tokens)} output × {groupedCountText(u.output_mc_per_1k)} = {micro} microcredits, {rounding} ={' '}
          <strong data-mc={costOfCallMc}>{creditsExactGroupedText(costOfCallMc)} credits</strong>
        </p>
      )}
      {u.reasoning_tokens > 0 ? (
        <p class="reasoning-tokens">
          Of the {groupedCountText(u.output_tokens)} output tokens, {groupedCountText(u.reasoning_tokens)} were reasoning: the model thinks in tokens it does not show, and they
          are billed as output.
        </p>
      ) : null}
      <dl class="facts">
        <dt>Held while the call ran</dt>
        <dd data-mc={u.hold_mc}>{creditsExactGroupedText(u.hold_mc)} credits</dd>
        <dt>Charged</dt>
        <dd data-mc={u.charged_mc}>{creditsExactGroupedText(u.charged_mc)} credits</dd>
        <dt>Shortfall</dt>
        <dd data-mc={u.shortfall_mc}>
          {u.shortfall_mc === 0 ? 'none' : `${creditsExactGroupedText(u.shortfall_mc)} credits could not be charged: the balance ran out`}
        </dd>
      </dl>
    </article>
  );
}
