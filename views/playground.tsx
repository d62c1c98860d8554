// The playground: a form to send one prompt, and the reply with what it cost (or the out-of-credits call to action).
import type { Rate } from '../src/db/schema.ts';
import { groupedCountText, creditsExactGroupedText } from '../src/money-text.ts';
import { modelLabel } from '../src/pricing/rates.ts';
import { Field } from './form.tsx';
import { LabelText } from './label-text.tsx';

export interface PlaygroundValues {
  model: string;
  prompt: string;
  maxTokens: string;
}

export type PlaygroundResult =
  | {
      kind: 'reply';
      model: string;
      /** "Advanced (gpt-4o)": the model as the rate card names it. */
      modelLabel: string;
      text: string;
      requestId: string;
      chargedMc: number;
      inputTokens: number;
      cachedInputTokens: number;
      outputTokens: number;
      estimated: boolean;
      /** The output limit your balance and caps allowed, when it was lowered. */
      cappedOutputTokens: number | null;
    }
  | { kind: 'out-of-credits'; message: string }
  | { kind: 'over-cap'; message: string }
  | { kind: 'failed'; message: string };

export interface PlaygroundPanelProps {
  rates: Rate[];
  values: PlaygroundValues;
  errors?: Partial<Record<'model' | 'prompt' | 'max_tokens', string>>;
  result?: PlaygroundResult;
}

function Reply(props: { result: Extract<PlaygroundResult, { kind: 'reply' }> }) {
  const { result } = props;
  const paragraphs = result.text.split(/\n+/).filter((line) => line.trim() !== '');
  return (
    <section id="playground-result" class="card playground-result" aria-labelledby="playground-result-title" aria-live="polite">
      <h2 id="playground-result-title">
        Reply from <LabelText text={result.modelLabel} />
      </h2>
      <div class="reply">
        {paragraphs.length === 0 ? <p class="muted">(The model returned no text.)</p> : paragraphs.map((line) => <p>{line}</p>)}
      </div>
      <p class="call-cost">
        This call cost{' '}
        <strong class="cost" data-mc={result.chargedMc}>
          {creditsExactGroupedText(result.chargedMc)} credits
        </strong>{' '}
        <span class="muted">
          ({groupedCountText(result.inputTokens)} input tokens{result.cachedInputTokens > 0 ? `, ${groupedCountText(result.cachedInputTokens)} of them cached` : ''},{' '}
          {groupedCountText(result.outputTokens)} output tokens{result.estimated ? ', counted here' : ''})
        </span>
        . <a href={`/credits/usage/${result.requestId}`}>See how it was charged</a>
      </p>
      {result.cappedOutputTokens !== null ? (
        <p class="muted">The reply was limited to {groupedCountText(result.cappedOutputTokens)} output tokens: what your balance and caps allow.</p>
      ) : null}
    </section>
  );
}

function OutOfCredits(props: { message: string }) {
  return (
    <section id="playground-result" class="card out-of-credits" aria-labelledby="playground-result-title" role="alert">
      <h2 id="playground-result-title">You are out of credits for this call</h2>
      <p>{props.message}</p>
      <p>
        <a class="button" href="/credits#packages">
          Buy credits
        </a>{' '}
        <span class="muted">or lower the maximum output tokens and try again.</span>
      </p>
    </section>
  );
}

function OverCap(props: { message: string }) {
  return (
    <section id="playground-result" class="card out-of-credits" aria-labelledby="playground-result-title" role="alert">
      <h2 id="playground-result-title">This call would pass a spending cap</h2>
      <p>{props.message}</p>
      <p>
        <a class="button secondary" href="/settings/billing">
          Review your caps
        </a>
      </p>
    </section>
  );
}

function Failed(props: { message: string }) {
  return (
    <section id="playground-result" class="card" aria-labelledby="playground-result-title">
      <h2 id="playground-result-title">The call did not complete</h2>
      <p class="form-error" role="alert">
        {props.message}
      </p>
    </section>
  );
}

/** The form and its result: the page shows it, and htmx swaps it whole (values kept, errors marked). */
export function PlaygroundPanel(props: PlaygroundPanelProps) {
  const errors = props.errors ?? {};
  const { values } = props;
  return (
    <div id="playground-panel">
      <form class="card form" method="post" action="/playground" enctype="multipart/form-data" hx-post="/playground" hx-target="#playground-panel" hx-swap="outerHTML" hx-disabled-elt="find button">
        <h2>Send a prompt</h2>
        <div class="field">
          <label for="field-model">Model</label>
          <select id="field-model" name="model" aria-invalid={errors.model ? 'true' : undefined} aria-describedby={errors.model ? 'field-model-error' : undefined}>
            {props.rates.map((rate) => (
              <option value={rate.model} selected={rate.model === values.model}>
                {modelLabel(rate)}
              </option>
            ))}
          </select>
          <p class="hint muted" id="field-model-rates">
            Credits per 1k tokens, input / output:{' '}
            {props.rates.map((rate, index) => `${index > 0 ? ' · ' : ''}${rate.model} ${creditsExactGroupedText(rate.input_mc_per_1k)} / ${creditsExactGroupedText(rate.output_mc_per_1k)}`).join('')}
          </p>
          {errors.model ? (
            <p class="field-error" id="field-model-error">
              {errors.model}
            </p>
          ) : null}
        </div>
        <div class="field">
          <label for="field-prompt">Prompt</label>
          <textarea id="field-prompt" name="prompt" rows={6} required aria-invalid={errors.prompt ? 'true' : undefined} aria-describedby={errors.prompt ? 'field-prompt-error' : undefined}>
            {values.prompt}
          </textarea>
          {errors.prompt ? (
            <p class="field-error" id="field-prompt-error">
              {errors.prompt}
            </p>
          ) : null}
        </div>
        <Field
          label="Maximum output tokens (optional)"
          name="max_tokens"
          value={values.maxTokens}
          error={errors.max_tokens}
          inputmode="numeric"
          hint="Leave empty to let your balance and caps decide. The call holds credits for this many tokens while it runs."
        />
        <p>
          <button type="submit">Send</button> <span class="htmx-indicator muted">Waiting for the model…</span>
        </p>
      </form>
      <PlaygroundOutcome result={props.result} />
    </div>
  );
}

/** Where the result goes: always there, so an answer can replace it alone (the form kept as typed). */
export function PlaygroundOutcome(props: { result?: PlaygroundResult }) {
  return (
    <div id="playground-outcome">
      {props.result?.kind === 'reply' ? <Reply result={props.result} /> : null}
      {props.result?.kind === 'out-of-credits' ? <OutOfCredits message={props.result.message} /> : null}
      {props.result?.kind === 'over-cap' ? <OverCap message={props.result.message} /> : null}
      {props.result?.kind === 'failed' ? <Failed message={props.result.message} /> : null}
    </div>
  );
}
