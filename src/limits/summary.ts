// What the balance card says about limits: auto-recharge's state and each cap's use this month.
import type { DB } from '../db/connect.ts';
import { utcMonthBounds } from '../ledger/month.ts';
import { monthSpending } from './caps.ts';

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
  const { startMs } = utcMonthBounds(nowMs);
  const [settings, modelCaps, keys, spent, recharges, card] = await Promise.all([
    db.selectFrom('billing_settings').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    db.selectFrom('model_caps').selectAll().where('user_id', '=', userId).orderBy('model').execute(),
    db.selectFrom('api_keys').select(['id', 'name', 'monthly_limit_mc']).where('user_id', '=', userId).where('monthly_limit_mc', 'is not', null).where('revoked_at_ms', 'is', null).orderBy('id').execute(),
    monthSpending(db, userId, nowMs),
    db.selectFrom('auto_recharges').select(['status', 'created_at_ms']).where('user_id', '=', userId).where((eb) => eb.or([eb('status', '=', 'pending'), eb('created_at_ms', '>=', startMs)])).execute(),
    db.selectFrom('saved_cards').select('user_id').where('user_id', '=', userId).executeTakeFirst(),
  ]);
  const packageName = settings?.auto_recharge_package_id
    ? ((await db.selectFrom('packages').select('name').where('id', '=', settings.auto_recharge_package_id).executeTakeFirst())?.name ?? null)
    : null;
  const caps: CapSummary[] = [];
  if (settings?.monthly_cap_mc != null) caps.push({ label: 'Monthly cap', capMc: settings.monthly_cap_mc, spentMc: spent(() => true) });
  for (const cap of modelCaps) caps.push({ label: `Cap for ${cap.model}`, capMc: cap.cap_mc, spentMc: spent((model) => model === cap.model) });
  for (const key of keys) caps.push({ label: `Key “${key.name}”`, capMc: key.monthly_limit_mc!, spentMc: spent((_model, keyId) => keyId === key.id) });
  return {
    autoRecharge: {
      enabled: settings?.auto_recharge_enabled === 1,
      thresholdMc: settings?.auto_recharge_threshold_mc ?? 0,
      packageName,
      succeededThisMonth: recharges.filter((r) => r.status === 'succeeded' && r.created_at_ms >= startMs).length,
      monthlyLimit: settings?.auto_recharge_monthly_limit ?? 0,
      pending: recharges.some((r) => r.status === 'pending'),
      hasCard: card !== undefined,
    },
    caps,
  };
}
