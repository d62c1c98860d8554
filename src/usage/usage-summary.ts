// Usage totals for a range of UTC days, from the daily rollup (usage_daily: a few rows per user and
// day), grouped by any of day, model and key: GET /v1/usage/summary's numbers. Never reads usage rows.
import { sql } from 'kysely';
import type { DB } from '../db/connect.ts';
import type { KeyFilter } from './usage-queries.ts';

export type SummaryGroup = 'day' | 'model' | 'key';

export interface UsageTotals {
  calls: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  chargedMc: number;
}

/** One group's totals; only the dimensions grouped by are set. */
export interface SummaryBucket extends UsageTotals {
  day?: string;
  model?: string;
  /** null: the playground's calls (no key). */
  apiKeyId?: number | null;
}

export interface SummarySelection {
  /** UTC days, both inclusive. */
  fromDay: string;
  toDay: string;
  model: string | null;
  key: KeyFilter | null;
}

const COLUMN: Record<SummaryGroup, 'day' | 'model' | 'api_key_id'> = { day: 'day', model: 'model', key: 'api_key_id' };

/** Days with no calls have no bucket. Buckets come in day, model, key order; the total is their sum. */
export async function usageSummary(db: DB, userId: number, selection: SummarySelection, groupBy: readonly SummaryGroup[]): Promise<{ buckets: SummaryBucket[]; total: UsageTotals }> {
  const columns = groupBy.map((group) => COLUMN[group]);
  let query = db
    .selectFrom('usage_daily')
    .select([
      sql<number>`sum(calls)`.as('calls'),
      sql<number>`sum(input_tokens)`.as('input_tokens'),
      sql<number>`sum(cached_input_tokens)`.as('cached_input_tokens'),
      sql<number>`sum(output_tokens)`.as('output_tokens'),
      sql<number>`sum(reasoning_tokens)`.as('reasoning_tokens'),
      sql<number>`sum(charged_mc)`.as('charged_mc'),
    ])
    .where('user_id', '=', userId)
    .where('day', '>=', selection.fromDay)
    .where('day', '<=', selection.toDay);
  if (selection.model) query = query.where('model', '=', selection.model);
  // The rollup stores the playground's calls under key 0.
  if (selection.key) query = query.where('api_key_id', '=', selection.key.kind === 'key' ? selection.key.id : 0);
  for (const column of (['day', 'model', 'api_key_id'] as const).filter((c) => columns.includes(c))) {
    query = query.select(column).groupBy(column).orderBy(column) as unknown as typeof query;
  }
  const rows = (await query.execute()) as (Record<string, unknown> & { calls: unknown })[];
  const buckets: SummaryBucket[] = [];
  for (const row of rows) {
    // An empty range sums nothing: one row of NULLs, no bucket.
    if (row.calls === null) continue;
    const bucket: SummaryBucket = {
      calls: Number(row.calls),
      inputTokens: Number(row.input_tokens),
      cachedInputTokens: Number(row.cached_input_tokens),
      outputTokens: Number(row.output_tokens),
      reasoningTokens: Number(row.reasoning_tokens),
      chargedMc: Number(row.charged_mc),
    };
    if (columns.includes('day')) bucket.day = row.day as string;
    if (columns.includes('model')) bucket.model = row.model as string;
    if (columns.includes('api_key_id')) bucket.apiKeyId = Number(row.api_key_id) === 0 ? null : Number(row.api_key_id);
    buckets.push(bucket);
  }
  const total: UsageTotals = { calls: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0, chargedMc: 0 };
  for (const bucket of buckets) {
    for (const name of Object.keys(total) as (keyof UsageTotals)[]) total[name] += bucket[name];
  }
  return { buckets, total };
}
