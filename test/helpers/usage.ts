// Makes usage history for page and export tests: settled calls through the real ledger functions.
import type { ManualClock } from '../../src/clock.ts';
import type { DB } from '../../src/db/connect.ts';
import type { UsageStatus } from '../../src/db/schema.ts';
import { placeHold, settleHold } from '../../src/ledger/holds.ts';
import { rateOf } from './db.ts';

export interface CallSpec {
  model?: string;
  apiKeyId?: number | null;
  inputTokens?: number;
  cachedInputTokens?: number;
  outputTokens?: number;
  status?: UsageStatus;
  estimated?: boolean;
  requestId?: string;
  /** Milliseconds to move the clock before the call. */
  advanceMs?: number;
}

let counter = 0;

export async function makeCall(db: DB, clock: ManualClock, userId: number, spec: CallSpec = {}) {
  if (spec.advanceMs) clock.advance(spec.advanceMs);
  const rate = await rateOf(db, spec.model ?? 'gpt-4o-mini');
  const hold = await placeHold(db, clock, {
    userId,
    apiKeyId: spec.apiKeyId ?? null,
    requestId: spec.requestId ?? `req_test${String(++counter).padStart(5, '0')}`,
    rate,
    roundingMode: 'exact',
    amountMc: 1_000,
    ttlMs: 600_000,
  });
  return settleHold(db, clock, hold.id, {
    tokens: { inputTokens: spec.inputTokens ?? 10, cachedInputTokens: spec.cachedInputTokens ?? 0, outputTokens: spec.outputTokens ?? 10 },
    status: spec.status ?? 'ok',
    estimated: spec.estimated ?? false,
    latencyMs: 42,
    upstreamResponseId: 'chatcmpl-test',
  });
}
