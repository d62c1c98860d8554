// What the balance card says about limits: auto-recharge's state and each cap's use this month.
import type { DB } from '../db/connect.ts';
import { succeededRechargesInMonth } from '../auto-recharge/trigger.ts';
import { monthSpending } from '../caps/caps.ts';
import { packageName } from '../pricing/packages.ts';
import { savedCard } from '../auto-recharge/saved-card.ts';
import { billingSettings } from './billing-settings.ts';
import { currentRates, modelLabel } from '../pricing/rates.ts';

export interface CapSummary {
  label: string;
  capMc: number;
  spentMc: number;
}

export interface LimitsSummary {
  autoRecharge: { enabled: boolean; thresholdMc: number; packageName: string | null; succeededThisMonth: number; monthlyLimit: number; pending: boolean; hasCard: boolean };
  caps: CapSummary[];
}

export async function limitsSummary(db: DB, userId: number, nowMs: number): Promise<LimitsSummary> {
  const [settings, keys, spent, succeededThisMonth, pending, card, rates] = await Promise.all([
    billingSettings(db, userId),
    db.selectFrom('api_keys').select(['id', 'name', 'monthly_limit_mc']).where('user_id', '=', userId).where('monthly_limit_mc', 'is not', null).where('revoked_at_ms', 'is', null).orderBy('id').execute(),
    monthSpending(db, userId, nowMs),
    succeededRechargesInMonth(db, userId, nowMs),
    db.selectFrom('auto_recharges').select('id').where('user_id', '=', userId).where('status', '=', 'pending').executeTakeFirst(),
    savedCard(db, userId),
    currentRates(db, undefined, { includeRetired: true }),
  ]);
  const rechargePackageName = settings.autoRechargePackageId ? await packageName(db, settings.autoRechargePackageId) : null;
  const caps: CapSummary[] = [];
  if (settings.monthlyCapMc !== null) caps.push({ label: 'Monthly cap', capMc: settings.monthlyCapMc, spentMc: spent(() => true) });
  for (const [model, capMc] of Object.entries(settings.modelCapsMc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const rate = rates.find((r) => r.model === model);
    caps.push({ label: `Cap for ${rate ? modelLabel(rate) : model}`, capMc, spentMc: spent((m) => m === model) });
  }
  for (const key of keys) caps.push({ label: `Key “${key.name}”`, capMc: key.monthly_limit_mc!, spentMc: spent((_model, keyId) => keyId === key.id) });
  return {
    autoRecharge: {
      enabled: settings.autoRecharge,
      thresholdMc: settings.autoRechargeThresholdMc,
      packageName: rechargePackageName,
      succeededThisMonth,
      monthlyLimit: settings.autoRechargeMonthlyLimit,
      pending: pending !== undefined,
      hasCard: card !== null,
    },
    caps,
  };
}
