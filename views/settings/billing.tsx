// /settings/billing: the low-balance threshold, auto-recharge, the monthly cap and per-model caps,
// one form posted whole; amounts in credits.
import type { Package, Rate } from '../../src/db/schema.ts';
import type { BillingSettings, SettingsForm } from '../../src/settings/billing-settings.ts';
import { Field, FormError } from '../form.tsx';
import { modelLabel } from '../../src/pricing/rates.ts';
import { creditsProseText, creditsFieldText } from '../../src/money-text.ts';
import { LabelText } from '../label-text.tsx';

/** The form's values are exactly what the settings parser reads. */
export type BillingFormValues = SettingsForm;

export interface SavedCardView {
  brand: string;
  last4: string;
}

export interface BillingFormProps {
  values: BillingFormValues;
  errors?: Record<string, string>;
  packages: Package[];
  rates: Rate[];
  card: SavedCardView | null;
  canBuy: boolean;
  /** What the last action did ("Saved.", the card removed…), or why it failed. */
  notice?: string | null;
  /** An action that failed (the card could not be removed), said on top of the form. */
  problem?: string;
}

export function formValuesFrom(settings: BillingSettings, rates: Rate[]): BillingFormValues {
  return {
    low_balance_threshold: creditsFieldText(settings.lowBalanceThresholdMc),
    auto_recharge: settings.autoRecharge,
    auto_recharge_threshold: creditsFieldText(settings.autoRechargeThresholdMc),
    auto_recharge_package: settings.autoRechargePackageId ?? '',
    auto_recharge_monthly_limit: String(settings.autoRechargeMonthlyLimit),
    monthly_cap: creditsFieldText(settings.monthlyCapMc),
    model_caps: Object.fromEntries(rates.map((r) => [r.model, creditsFieldText(settings.modelCapsMc[r.model])])),
  };
}

/**
 * Remove the saved card: its own plain form after the settings form, never a button inside it (Enter
 * in a settings field submits with the form's first submit button, which must stay "Save settings").
 */
export function RemoveCardForm(props: { card: SavedCardView }) {
  return (
    <form id="remove-card" class="card form remove-card" method="post" action="/settings/billing/card/remove">
      <p>
        Saved card: <strong>{props.card.brand}</strong> ending in <strong>{props.card.last4}</strong>.{' '}
        <button type="submit" class="secondary small">
          Remove card
        </button>
      </p>
      <p class="muted">Removing it detaches it from this site's payment account and turns auto-recharge off.</p>
    </form>
  );
}

export function BillingForm(props: BillingFormProps) {
  const errors = props.errors ?? {};
  const v = props.values;
  return (
    <form id="billing-settings" class="card form" method="post" action="/settings/billing" hx-post="/settings/billing" hx-target="this" hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]">
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.problem ? <FormError message={props.problem} /> : null}
      {Object.keys(errors).length > 0 ? <FormError message="Some settings need a fix; nothing was saved." /> : null}
      <fieldset>
        <legend>Low-balance alert</legend>
        <Field label="Alert me below (credits)" name="low_balance_threshold" value={v.low_balance_threshold} inputmode="decimal" error={errors.low_balance_threshold} hint="One email and a banner when the balance drops below this; 0 turns it off." />
      </fieldset>
      <fieldset>
        <legend>Auto-recharge</legend>
        {props.card ? (
          <p class="saved-card">
            Saved card: <strong>{props.card.brand}</strong> ending in <strong>{props.card.last4}</strong>
          </p>
        ) : (
          <p class="muted">
            No saved card yet. {props.canBuy ? <>Buy any package on the <a href="/credits#packages">Credits tab</a> with “Save the card for auto-recharge” ticked.</> : 'Buying is turned off on this site.'}
          </p>
        )}
        <label class="checkbox">
          <input type="checkbox" name="auto_recharge" value="on" checked={v.auto_recharge} aria-invalid={errors.auto_recharge ? 'true' : undefined} aria-describedby={errors.auto_recharge ? 'auto-recharge-error' : undefined} /> Buy a package automatically when the
          available balance drops below the threshold
        </label>
        {errors.auto_recharge ? (
          <p class="field-error" id="auto-recharge-error">
            {errors.auto_recharge}
          </p>
        ) : null}
        <Field label="Threshold (credits)" name="auto_recharge_threshold" value={v.auto_recharge_threshold} inputmode="decimal" error={errors.auto_recharge_threshold} />
        <div class="field">
          <label for="field-auto_recharge_package">Package</label>
          <select id="field-auto_recharge_package" name="auto_recharge_package" aria-invalid={errors.auto_recharge_package ? 'true' : undefined} aria-describedby={errors.auto_recharge_package ? 'field-auto_recharge_package-error' : undefined}>
            <option value="">Choose a package</option>
            {props.packages.map((p) => (
              <option value={p.id} selected={v.auto_recharge_package === p.id}>
                {`${p.name}: ${creditsProseText(p.credits_mc)} credits`}
              </option>
            ))}
          </select>
          {errors.auto_recharge_package ? (
            <p class="field-error" id="field-auto_recharge_package-error">
              {errors.auto_recharge_package}
            </p>
          ) : null}
        </div>
        <Field label="At most this many recharges a month" name="auto_recharge_monthly_limit" value={v.auto_recharge_monthly_limit} inputmode="numeric" error={errors.auto_recharge_monthly_limit} />
      </fieldset>
      <fieldset class="caps">
        <legend>Spending caps (this UTC month, settled and held)</legend>
        <Field label="Monthly cap (credits)" name="monthly_cap" value={v.monthly_cap} inputmode="decimal" error={errors.monthly_cap} hint="Empty for no cap. Calls that would pass it are refused (402)." />
        {props.rates.map((r) => (
          <Field
            label={
              <>
                Cap for <LabelText text={modelLabel(r)} /> (credits)
              </>
            }
            name={`model_cap[${r.model}]`}
            value={v.model_caps[r.model] ?? ''}
            inputmode="decimal"
            error={errors[`model_cap[${r.model}]`]}
          />
        ))}
        <p class="muted">Per-key monthly limits and calls in flight are set on the <a href="/keys">API keys</a> page.</p>
      </fieldset>
      <p>
        <button type="submit">Save settings</button>
      </p>
    </form>
  );
}
