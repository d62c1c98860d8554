// The usage API for scripts: GET /v1/usage (the caller's calls, newest first, with the Credits tab's
// filters and keyset cursor), GET /v1/usage/summary (totals from the daily rollup) and
// GET /v1/usage/{requestId} (one call's record, usage-record.ts). All of them the key owner's only.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { encodeCursor } from '../db/cursor.ts';
import { invalidQueryParameter, usageNotFound } from '../errors/descriptions.ts';
import { parseUsageListLimit, parseUsageSummary, readUsageFilters, type FilterErrors } from '../filters.ts';
import { listApiKeys } from '../keys/keys.ts';
import { creditsJsonNumber } from '../money-text.ts';
import { currentRates } from '../pricing/rates.ts';
import { usagePage } from '../usage/usage-queries.ts';
import { usageSummary, type UsageTotals } from '../usage/usage-summary.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { requireApiKey } from './key-auth.ts';
import { findUsageRecord, usageRecord } from './usage-record.ts';

/** The first bad parameter, as a 400 naming it. */
function badParameter(c: Context, errors: FilterErrors): Response {
  const [param, message] = Object.entries(errors)[0]!;
  return errorJson(c, invalidQueryParameter(param, message));
}

/** A summary's numbers as JSON: the millicredits exact, credits beside them. */
function totalsJson(totals: UsageTotals) {
  const { chargedMc, ...counts } = totals;
  return { ...counts, chargedMillicredits: chargedMc, chargedCredits: creditsJsonNumber(chargedMc) };
}

export function usageRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();

  app.get('/usage', requireApiKey(ctx), async (c) => {
    const userId = c.get('user')!.id;
    const query = c.req.query();
    const { parsed, secret, keys } = await readUsageFilters(ctx.db, userId, query);
    const errors: FilterErrors = parsed.ok ? {} : { ...parsed.errors };
    const limit = parseUsageListLimit(query, errors);
    if (!parsed.ok || Object.keys(errors).length > 0) return badParameter(c, errors);
    const page = await usagePage(ctx.db, userId, parsed.filters, limit);
    const keyById = new Map(keys.map((k) => [k.id, k]));
    return c.json({
      object: 'list',
      data: page.rows.map((row) => usageRecord(row, row.api_key_id === null ? null : (keyById.get(row.api_key_id) ?? null))),
      has_more: page.older !== null,
      next_cursor: page.older ? encodeCursor(secret, page.older) : null,
    });
  });

  // Before /usage/:requestId, which would otherwise take "summary" for a request id.
  app.get('/usage/summary', requireApiKey(ctx), async (c) => {
    const userId = c.get('user')!.id;
    const [keys, rates] = await Promise.all([listApiKeys(ctx.db, userId), currentRates(ctx.db)]);
    const parsed = parseUsageSummary(c.req.query(), c.req.queries('group_by') ?? [], ctx.clock.now(), rates.map((r) => r.model), keys);
    if (!parsed.ok) return badParameter(c, parsed.errors);
    const { summary } = parsed;
    const { buckets, total } = await usageSummary(ctx.db, userId, summary, summary.groupBy);
    const keyById = new Map(keys.map((k) => [k.id, k]));
    return c.json({
      object: 'list',
      from: summary.fromDay,
      to: summary.toDay,
      group_by: summary.groupBy,
      data: buckets.map(({ day, model, apiKeyId, ...totals }) => {
        const key = apiKeyId === undefined || apiKeyId === null ? null : (keyById.get(apiKeyId) ?? null);
        return {
          ...(day !== undefined && { day }),
          ...(model !== undefined && { model }),
          ...(apiKeyId !== undefined && { apiKeyId, apiKeyName: key?.name ?? null, apiKey: key?.prefix ?? null }),
          ...totalsJson(totals),
        };
      }),
      total: totalsJson(total),
    });
  });

  app.get('/usage/:requestId', requireApiKey(ctx), async (c) => {
    const record = await findUsageRecord(ctx.db, c.get('user')!.id, c.req.param('requestId'));
    if (!record) return errorJson(c, usageNotFound(c.req.param('requestId')));
    return c.json(record);
  });

  return app;
}
