// /admin/rates: every model (retired ones too) with a form to change its rates (a new version) or
// retire it, a form to add a model, and the log of rate card actions.
import type { AdminActionRow } from '../../src/admin/actions.ts';
import type { Rate } from '../../src/db/schema.ts';
import { creditsExactText } from '../../src/money-text.ts';
import { utcDateTime } from '../time.ts';
import { ActionsLog } from './actions-log.tsx';
import { AdminInput } from './fields.tsx';
import type { FormProblem } from './user-page.tsx';

export interface RateCardProps {
  rates: Rate[];
  actions: AdminActionRow[];
  problem: FormProblem | null;
  notice: string | null;
}

function Input(props: { form: string; name: string; label: string; value: string; problem: FormProblem | null; inputmode?: 'decimal' | 'numeric' | 'text' }) {
  return <AdminInput {...props} inputmode={props.inputmode ?? 'decimal'} />;
}

/** The fields a rate has, filled with `rate`'s (or empty for a new model). */
function RateFields(props: { form: string; rate: Rate | null; problem: FormProblem | null }) {
  const r = props.rate;
  const credits = (mc: number | undefined) => (mc === undefined ? '' : creditsExactText(mc));
  return (
    <>
      <Input form={props.form} name="label" label="Label" value={r?.label ?? ''} problem={props.problem} inputmode="text" />
      <Input form={props.form} name="input" label="Input (credits per 1k tokens)" value={credits(r?.input_mc_per_1k)} problem={props.problem} />
      <Input form={props.form} name="cached" label="Cached input (credits per 1k tokens)" value={credits(r?.cached_input_mc_per_1k)} problem={props.problem} />
      <Input form={props.form} name="output" label="Output (credits per 1k tokens)" value={credits(r?.output_mc_per_1k)} problem={props.problem} />
      <Input form={props.form} name="max_output" label="Max output tokens" value={r ? String(r.max_output_tokens) : ''} problem={props.problem} inputmode="numeric" />
      <Input form={props.form} name="reason" label="Reason" value="" problem={props.problem} inputmode="text" />
    </>
  );
}

export function RateCardPage(props: RateCardProps) {
  return (
    <>
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      <section id="admin-rates" aria-labelledby="admin-rates-title">
        <h2 id="admin-rates-title">Models</h2>
        {props.rates.map((rate) => {
          const form = `rate-${rate.id}`;
          return (
            <details class="card admin-rate" data-model={rate.model} data-retired={rate.retired_at_ms === null ? undefined : 'true'} open={props.problem?.form === form || props.problem?.form === `retire-${rate.id}`}>
              <summary>
                <strong>{rate.label}</strong> <code>{rate.model}</code> · version {rate.version} · {rate.kind} · in {creditsExactText(rate.input_mc_per_1k)} / cached {creditsExactText(rate.cached_input_mc_per_1k)} / out {creditsExactText(rate.output_mc_per_1k)} credits per 1k
                {rate.retired_at_ms === null ? null : <span class="retired"> · retired {utcDateTime(rate.retired_at_ms)} UTC</span>}
              </summary>
              <form id={form} class="form" method="post" action="/admin/rates/change">
                <input type="hidden" name="model" value={rate.model} />
                <input type="hidden" name="form" value={form} />
                <RateFields form={form} rate={rate} problem={props.problem} />
                <button type="submit">{rate.retired_at_ms === null ? 'Save as a new version' : 'Put back on sale at these rates'}</button>
              </form>
              {rate.retired_at_ms === null ? (
                <form id={`retire-${rate.id}`} class="form" method="post" action="/admin/rates/retire">
                  <input type="hidden" name="model" value={rate.model} />
                  <input type="hidden" name="form" value={`retire-${rate.id}`} />
                  <Input form={`retire-${rate.id}`} name="reason" label="Reason" value="" problem={props.problem} inputmode="text" />
                  <button type="submit" class="danger-solid">Retire</button>
                </form>
              ) : null}
            </details>
          );
        })}
      </section>
      <form id="add-rate" class="card form" method="post" action="/admin/rates/add">
        <h2>Add a model</h2>
        <input type="hidden" name="form" value="add-rate" />
        <Input form="add-rate" name="model" label="Model id (as the upstream names it)" value="" problem={props.problem} inputmode="text" />
        <div class="field">
          <label for="add-rate-kind">Kind</label>
          <select id="add-rate-kind" name="kind">
            <option value="chat">Chat (chat completions, Responses)</option>
            <option value="embeddings">Embeddings</option>
          </select>
        </div>
        <RateFields form="add-rate" rate={null} problem={props.problem} />
        <button type="submit">Add the model</button>
      </form>
      <ActionsLog rows={props.actions} />
    </>
  );
}
