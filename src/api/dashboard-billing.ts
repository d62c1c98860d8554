// OpenAI's legacy balance endpoints, as one-api and new-api still serve them, for chat front-ends that
// show a key's balance through them (NextChat and its forks): GET /v1/dashboard/billing/subscription
// and GET /v1/dashboard/billing/usage. Credits are shown as dollars (credits ÷ 1,000 = USD), the usage
// from the daily rollup; the limits are the key owner's available credits plus this month's usage, so
// a client's "limit − usage this month" is what can still be spent.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { invalidQueryParameter } from '../errors/descriptions.ts';
import { parseBillingUsageRange } from '../filters.ts';
import { walletSummary } from '../ledger/wallet.ts';
import { centsJsonNumber, usdJsonNumber } from '../money-text.ts';
import { utcDay, utcMonthBounds } from '../month.ts';
import { usageSummary } from '../usage/usage-summary.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { requireApiKey } from './key-auth.ts';

export function dashboardBillingRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  const { db, clock, config } = ctx;
  const everything = { model: null, key: null };

  app.get('/dashboard/billing/subscription', requireApiKey(ctx), async (c) => {
    const userId = c.get('user')!.id;
    const nowMs = clock.now();
    const monthStartMs = utcMonthBounds(nowMs).startMs;
    const [wallet, month] = await Promise.all([walletSummary(db, userId), usageSummary(db, userId, { fromDay: utcDay(monthStartMs), toDay: utcDay(nowMs), ...everything }, [])]);
    // Never below this month's usage: a wallet whose holds exceed its balance shows nothing left, not less.
    const limitUsd = usdJsonNumber(Math.max(0, wallet.availableMc) + month.total.chargedMc);
    const expiresAtMs = c.get('apiKey')!.expiresAtMs;
    return c.json({
      object: 'billing_subscription',
      has_payment_method: config.payments !== 'off',
      soft_limit_usd: limitUsd,
      hard_limit_usd: limitUsd,
      system_hard_limit_usd: limitUsd,
      // Unix seconds: the key's last moment; 0 when it never expires (as one-api answers).
      access_until: expiresAtMs === null ? 0 : Math.floor(expiresAtMs / 1000),
    });
  });

  app.get('/dashboard/billing/usage', requireApiKey(ctx), async (c) => {
    const range = parseBillingUsageRange(c.req.query(), clock.now());
    if (!range.ok) {
      const [param, message] = Object.entries(range.errors)[0]!;
      return errorJson(c, invalidQueryParameter(param, message));
    }
    const { buckets, total } = await usageSummary(db, c.get('user')!.id, { fromDay: range.fromDay, toDay: range.toDay, ...everything }, ['day', 'model']);
    const days = new Map<string, { name: string; cost: number }[]>();
    for (const bucket of buckets) {
      const items = days.get(bucket.day!) ?? [];
      items.push({ name: bucket.model!, cost: centsJsonNumber(bucket.chargedMc) });
      days.set(bucket.day!, items);
    }
    return c.json({
      object: 'list',
      // Each day with calls: its UTC start in Unix seconds, a line per model, in cents.
      daily_costs: [...days].map(([day, lineItems]) => ({ timestamp: Date.parse(`${day}T00:00:00Z`) / 1000, line_items: lineItems })),
      total_usage: centsJsonNumber(total.chargedMc),
    });
  });

  return app;
}
