// GET /v1/usage/{requestId}'s body, and each item of GET /v1/usage: one call's usage row as JSON (the
// fields the README lists), scoped to its owner.
import { creditsJsonNumber } from '../money-text.ts';
import type { DB } from '../db/connect.ts';
import type { ApiKey, Usage } from '../db/schema.ts';
import { chargeBasis } from '../usage/charge-basis.ts';
import { usageDetail } from '../usage/usage-queries.ts';

export interface UsageRecord {
  requestId: string;
  createdAt: string;
  model: string;
  /** The API the call went through: chat (chat completions and the playground), responses or embeddings. */
  endpoint: string;
  status: string;
  estimated: boolean;
  /** What the charge was based on, in words (the usage detail page's sentence): e.g. an aborted call charged as the upstream reported. */
  chargedFor: string;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  /** Output tokens spent reasoning, as the upstream reported them: within outputTokens, billed as output. */
  reasoningTokens: number;
  rates: { inputCreditsPer1k: number; cachedInputCreditsPer1k: number; outputCreditsPer1k: number };
  roundingMode: string;
  heldCredits: number;
  chargedCredits: number;
  chargedMillicredits: number;
  shortfallCredits: number;
  latencyMs: number;
  /** The key's prefix (what the keys page shows); null for a playground call. */
  apiKey: string | null;
  /** The upstream that answered (or failed last); null for calls recorded before upstreams were named. */
  upstream: string | null;
  /** Each upstream tried, in order, and how it ended: "primary: 500; secondary: ok". */
  upstreamAttempts: string | null;
  /** The key's id and name (what GET /v1/usage's `key` filter takes); null for a playground call. */
  apiKeyId: number | null;
  apiKeyName: string | null;
}

/** null for an unknown request id and for another user's: both answer 404. */
export async function findUsageRecord(db: DB, userId: number, requestId: string): Promise<UsageRecord | null> {
  const detail = await usageDetail(db, userId, requestId);
  return detail ? usageRecord(detail.usage, detail.apiKey) : null;
}

/** `apiKey`: the row's key, null for a playground call (or a key no longer found). */
export function usageRecord(row: Usage, apiKey: Pick<ApiKey, 'id' | 'name' | 'prefix'> | null): UsageRecord {
  return {
    requestId: row.request_id,
    createdAt: new Date(row.created_at_ms).toISOString(),
    model: row.model,
    endpoint: row.endpoint,
    status: row.status,
    estimated: row.estimated === 1,
    chargedFor: chargeBasis(row),
    inputTokens: row.input_tokens,
    cachedInputTokens: row.cached_input_tokens,
    outputTokens: row.output_tokens,
    reasoningTokens: row.reasoning_tokens,
    rates: {
      inputCreditsPer1k: creditsJsonNumber(row.input_mc_per_1k),
      cachedInputCreditsPer1k: creditsJsonNumber(row.cached_input_mc_per_1k),
      outputCreditsPer1k: creditsJsonNumber(row.output_mc_per_1k),
    },
    roundingMode: row.rounding_mode,
    heldCredits: creditsJsonNumber(row.hold_mc),
    chargedCredits: creditsJsonNumber(row.charged_mc),
    chargedMillicredits: row.charged_mc,
    shortfallCredits: creditsJsonNumber(row.shortfall_mc),
    latencyMs: row.latency_ms,
    apiKey: apiKey?.prefix ?? null,
    upstream: row.upstream,
    upstreamAttempts: row.upstream_attempts,
    apiKeyId: apiKey?.id ?? null,
    apiKeyName: apiKey?.name ?? null,
  };
}
