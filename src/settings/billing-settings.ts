// A user's billing settings (the form at /settings/billing): the low-balance threshold, auto-recharge,
// the monthly cap and per-model caps. Amounts are typed in credits; checked as a whole, saved as a whole.
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { writeTransaction } from '../db/transaction.ts';
import { parseCreditsToMc } from '../money-text.ts';

export interface BillingSettings {
  lowBalanceThresholdMc: number;
  autoRecharge: boolean;
  autoRechargeThresholdMc: number;
  autoRechargePackageId: string | null;
  autoRechargeMonthlyLimit: number;
  monthlyCapMc: number | null;
  /** model → cap in mc; a model without a cap is absent. */
  modelCapsMc: Record<string, number>;
}

export const DEFAULT_MONTHLY_RECHARGE_LIMIT = 3;

export async function billingSettings(db: DB, userId: number): Promise<BillingSettings> {
  const [user, row, caps] = await Promise.all([
    db.selectFrom('users').select('low_balance_threshold_mc').where('id', '=', userId).executeTakeFirstOrThrow(),
    db.selectFrom('billing_settings').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    db.selectFrom('model_caps').select(['model', 'cap_mc']).where('user_id', '=', userId).execute(),
  ]);
  return {
    lowBalanceThresholdMc: user.low_balance_threshold_mc,
    autoRecharge: row?.auto_recharge_enabled === 1,
    autoRechargeThresholdMc: row?.auto_recharge_threshold_mc ?? 0,
    autoRechargePackageId: row?.auto_recharge_package_id ?? null,
    autoRechargeMonthlyLimit: row?.auto_recharge_monthly_limit ?? DEFAULT_MONTHLY_RECHARGE_LIMIT,
    monthlyCapMc: row?.monthly_cap_mc ?? null,
    modelCapsMc: Object.fromEntries(caps.map((c) => [c.model, c.cap_mc])),
  };
}

/** The form as posted: every value a string ("" for an empty field), model caps keyed by model. */
export interface SettingsForm {
  low_balance_threshold: string;
  auto_recharge: boolean;
  auto_recharge_threshold: string;
  auto_recharge_package: string;
  auto_recharge_monthly_limit: string;
  monthly_cap: string;
  model_caps: Record<string, string>;
}

export interface SettingsContext {
  /** Package id → credits, of the packages on sale. */
  packagesMc: Map<string, number>;
  models: string[];
  hasSavedCard: boolean;
}

export type SettingsOutcome = { ok: true; settings: BillingSettings } | { ok: false; errors: Record<string, string> };

function amount(text: string, field: string, errors: Record<string, string>, options: { allowEmpty: boolean; positive: boolean }): number | null {
  const trimmed = text.trim();
  if (trimmed === '') {
    if (!options.allowEmpty) errors[field] = 'Enter an amount in credits (0 turns it off).';
    return null;
  }
  // parseCreditsToMc takes at most 12 integer digits: any amount it returns is a safe integer.
  const mc = parseCreditsToMc(trimmed);
  if (mc === null || mc < 0) {
    errors[field] = 'Enter an amount in credits, like 500 or 12.5 (at most 3 decimals).';
    return null;
  }
  if (options.positive && mc === 0) {
    errors[field] = 'A cap must be above 0; leave it empty for no cap.';
    return null;
  }
  return mc;
}

export function parseSettingsForm(form: SettingsForm, context: SettingsContext): SettingsOutcome {
  const errors: Record<string, string> = {};
  const lowBalanceThresholdMc = amount(form.low_balance_threshold, 'low_balance_threshold', errors, { allowEmpty: false, positive: false }) ?? 0;
  const autoRechargeThresholdMc = amount(form.auto_recharge_threshold, 'auto_recharge_threshold', errors, { allowEmpty: !form.auto_recharge, positive: false }) ?? 0;
  const packageId = form.auto_recharge_package.trim() || null;
  if (packageId !== null && !context.packagesMc.has(packageId)) errors.auto_recharge_package = 'Choose one of the packages.';
  const limitText = form.auto_recharge_monthly_limit.trim();
  const autoRechargeMonthlyLimit = limitText === '' ? DEFAULT_MONTHLY_RECHARGE_LIMIT : /^\d{1,3}$/.test(limitText) ? Number(limitText) : NaN;
  if (!(autoRechargeMonthlyLimit >= 1 && autoRechargeMonthlyLimit <= 100)) errors.auto_recharge_monthly_limit = 'Enter how many recharges a month at most, from 1 to 100.';
  if (form.auto_recharge) {
    if (!context.hasSavedCard) errors.auto_recharge = 'Auto-recharge needs a saved card: buy any package with "Save the card for auto-recharge" ticked.';
    if (packageId === null) errors.auto_recharge_package = errors.auto_recharge_package ?? 'Choose the package to buy when the balance runs low.';
    const packageMc = packageId === null ? undefined : context.packagesMc.get(packageId);
    if (packageMc !== undefined && !errors.auto_recharge_threshold && packageMc <= autoRechargeThresholdMc) {
      errors.auto_recharge_package = 'Choose a package larger than the threshold, or one recharge would not lift the balance above it.';
    }
  }
  const monthlyCapMc = amount(form.monthly_cap, 'monthly_cap', errors, { allowEmpty: true, positive: true });
  const modelCapsMc: Record<string, number> = {};
  for (const [model, text] of Object.entries(form.model_caps)) {
    if (!context.models.includes(model)) {
      errors[`model_cap[${model}]`] = `There is no model ${model} on the rate card.`;
      continue;
    }
    const cap = amount(text, `model_cap[${model}]`, errors, { allowEmpty: true, positive: true });
    if (cap !== null) modelCapsMc[model] = cap;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      lowBalanceThresholdMc,
      autoRecharge: form.auto_recharge,
      autoRechargeThresholdMc,
      autoRechargePackageId: packageId,
      autoRechargeMonthlyLimit,
      monthlyCapMc,
      modelCapsMc,
    },
  };
}

/**
 * Saves the whole form in one transaction. A new threshold re-arms the low-balance alert when the
 * balance is at or above it, so the next crossing sends one email.
 */
export async function saveBillingSettings(db: DB, clock: Clock, userId: number, settings: BillingSettings): Promise<void> {
  await writeTransaction(db, async (trx) => {
    const nowMs = clock.now();
    const wallet = await trx.selectFrom('wallets').select('balance_mc').where('user_id', '=', userId).executeTakeFirstOrThrow();
    await trx
      .updateTable('users')
      .set({ low_balance_threshold_mc: settings.lowBalanceThresholdMc, ...(wallet.balance_mc >= settings.lowBalanceThresholdMc ? { low_balance_alerted: 0 as const } : {}) })
      .where('id', '=', userId)
      .execute();
    const values = {
      auto_recharge_enabled: settings.autoRecharge ? (1 as const) : (0 as const),
      auto_recharge_threshold_mc: settings.autoRechargeThresholdMc,
      auto_recharge_package_id: settings.autoRechargePackageId,
      auto_recharge_monthly_limit: settings.autoRechargeMonthlyLimit,
      monthly_cap_mc: settings.monthlyCapMc,
      updated_at_ms: nowMs,
    };
    await trx
      .insertInto('billing_settings')
      .values({ user_id: userId, ...values })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
      .execute();
    await trx.deleteFrom('model_caps').where('user_id', '=', userId).execute();
    const caps = Object.entries(settings.modelCapsMc).map(([model, cap_mc]) => ({ user_id: userId, model, cap_mc }));
    if (caps.length > 0) await trx.insertInto('model_caps').values(caps).execute();
  });
}
